"""Cross-cutting pieces every domain uses: settings, errors, HTTP glue, ids, money, paging."""
