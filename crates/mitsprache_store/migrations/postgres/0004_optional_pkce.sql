-- A code of a confidential client an admin allowed to log in without PKCE has no challenge.

ALTER TABLE auth_codes ALTER COLUMN code_challenge DROP NOT NULL;
