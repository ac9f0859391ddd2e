-- The assignment a referral webhook (assignment.offered, assignment.updated) is about: it is sent again
-- only while its provider still holds the assignment or is still being offered it. A referral known
-- from before this column is not sent again at all.
ALTER TABLE intake.deliveries ADD COLUMN assignment_id text;
