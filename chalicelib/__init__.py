"""agora: a multi-tenant marketplace backend with customer retention built in."""
