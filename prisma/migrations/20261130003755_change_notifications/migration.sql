-- Every write to a table the web UI shows announces itself on the channel coffre_changes, with the
-- table's name as payload (one notification per statement, and PostgreSQL folds identical ones of a
-- transaction into one). The API listens and pushes "this changed" to the browsers over one
-- server-sent events stream, so that they need not poll. Sessions, tokens and the audit log are
-- left out: reading a page writes to them, and a page that listened would read itself forever.
-- The body's semicolons are written \073 in an escaped string: the migration runner splits a script
-- at every semicolon, dollar quotes or not.
CREATE OR REPLACE FUNCTION coffre_notify_change() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN PERFORM pg_notify(\'coffre_changes\', TG_TABLE_NAME)\073 RETURN NULL\073 END';

CREATE TRIGGER "Backup_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "Backup" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "BackupArtifact_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "BackupArtifact" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "Restore_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "Restore" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "Verification_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "Verification" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "BackupConfiguration_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "BackupConfiguration" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "ConfigurationDestination_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "ConfigurationDestination" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "Source_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "Source" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "Destination_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "Destination" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "NotificationChannel_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "NotificationChannel" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "NotificationDelivery_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "NotificationDelivery" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
CREATE TRIGGER "User_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "User" FOR EACH STATEMENT EXECUTE FUNCTION coffre_notify_change();
