-- Facts stamped ahead of their arrival: the figures loop counts their authority again once their moment comes.
CREATE INDEX facts_by_time ON scheduler.facts (time);
