"""Domain events: the transactional outbox, its relay from the table stream to SQS,
and the dispatch of events to the domains that react to them."""
