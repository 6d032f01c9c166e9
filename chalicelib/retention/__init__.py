"""Customer retention: emails triggered through SQS, loyalty, promotions, analytics."""
