"""The three services: intake, scheduler and notifier. They share only `shared`."""
