"""What can be done: messaging, validation, inbox, numbers, wallet, providers, the tool catalog."""
