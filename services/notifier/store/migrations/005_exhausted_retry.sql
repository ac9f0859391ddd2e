-- Tasks nobody could take when routed are looked at again while their window is open (acceptance.py).
CREATE INDEX tasks_exhausted ON notifier.tasks (created_at) WHERE status = 'exhausted';
