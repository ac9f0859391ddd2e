-- The figures of the child's voice (docs/domain.md rule 35) are counted a month at a time: findings by
-- the authority and the month the interview was held, the answers to each, the months whose time to
-- answer ran out, and every arrest of a child (told or not: the figures count those that ended an
-- episode with signs of exploitation).
CREATE INDEX findings_by_authority ON scheduler.findings (responsible_authority, completed_at);
CREATE INDEX findings_by_respond_by ON scheduler.findings (respond_by);
CREATE INDEX findings_responses_of_findings ON scheduler.findings_responses (findings_id);
DROP INDEX scheduler.arrests_of_child;
CREATE INDEX arrests_of_child ON scheduler.arrests (child_key, returned_at);
