-- Schema v8: the checksums of each part of a completed multipart object, kept with the object so
-- GetObjectAttributes can list its parts (ObjectParts) and GET ?partNumber can answer a part's
-- checksum. JSON array in part order, aligned with part_sizes, of {"CRC32": "<base64>", …}
-- maps; NULL for single-part objects and for multipart objects completed before this column.
ALTER TABLE objects ADD COLUMN part_checksums TEXT;
