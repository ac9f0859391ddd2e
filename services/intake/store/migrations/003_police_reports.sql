-- What a police force may read of a child: the episodes its own reports fall in (DOMAIN rule 20). A
-- missing report keeps when the absence began; other events leave it empty.
ALTER TABLE intake.events ADD COLUMN missing_since timestamptz;
