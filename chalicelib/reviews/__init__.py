"""Reviews: buyers' verified product reviews, their moderation and the ratings they make."""
