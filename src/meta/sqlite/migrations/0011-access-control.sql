-- Schema v11: access control. A bucket's policy (the JSON document as the client sent it), its
-- ACL ({"owner","grants"} JSON), its Object Ownership setting and its PublicAccessBlock
-- ({"blockPublicAcls",…} JSON); NULL means none set (ownership: no controls, ACLs apply as
-- ObjectWriter; public access block: nothing blocked). An object's ACL lives in its row, written
-- in the same statement as the object; NULL means the default (private to the bucket owner).
ALTER TABLE buckets ADD COLUMN policy TEXT;
ALTER TABLE buckets ADD COLUMN acl TEXT;
ALTER TABLE buckets ADD COLUMN ownership TEXT;
ALTER TABLE buckets ADD COLUMN public_access_block TEXT;
ALTER TABLE objects ADD COLUMN acl TEXT;
-- Each version keeps its own ACL: it moves with the row to object_versions.
ALTER TABLE object_versions ADD COLUMN acl TEXT;
-- The ACL a multipart upload was created with (x-amz-acl / x-amz-grant-*), applied when it completes.
ALTER TABLE multipart_uploads ADD COLUMN acl TEXT;
-- Buckets made before access control could not be shared: they get what AWS gives a new bucket
-- today (ACLs disabled, all public access blocked), so nothing becomes reachable by upgrading.
UPDATE buckets SET ownership = 'BucketOwnerEnforced',
  public_access_block = '{"blockPublicAcls":true,"ignorePublicAcls":true,"blockPublicPolicy":true,"restrictPublicBuckets":true}';
