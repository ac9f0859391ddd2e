"""An organisation's own webhook deliveries (`GET /v1/deliveries`, redelivery): the routes and the SQL
of the projection they read."""
