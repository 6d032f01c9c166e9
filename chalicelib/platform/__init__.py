"""The marketplace's own endpoints: health, the API description and its docs page."""
