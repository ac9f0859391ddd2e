"""What operators' commands do in the notifier: deliveries looked at and sent again, a child's rows exported or erased."""
