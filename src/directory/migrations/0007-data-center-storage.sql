-- Directory schema v7: where a data center keeps its files. NULL means the default folder
-- under the data folder (<dataDir>/dcs/<id>); otherwise an absolute path the operator chose
-- (a volume of its own, for instance), fixed when the data center was added.
ALTER TABLE data_centers ADD COLUMN storage_path TEXT;
