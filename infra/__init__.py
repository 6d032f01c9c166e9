"""agora's infrastructure: the CloudFormation template, its stack helpers and the deploy script."""
