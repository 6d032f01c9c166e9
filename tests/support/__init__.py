"""Support code of the tests: builders, credentials, event pumping and mail reading, one copy
each, imported by test modules and conftest files alike (a test module never imports another)."""
