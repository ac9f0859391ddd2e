-- What a cancellation "reported in error" withdraws: the id of the sender's own missing report, or '*'
-- for the sender's reports of the absence open when it came. A withdrawn report no longer lets its
-- police force read the episode. (Cancellations accepted before this column existed withdraw nothing
-- here: their bodies are not kept.)
ALTER TABLE intake.events ADD COLUMN withdraws text;
