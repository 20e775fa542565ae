DROP TABLE credit_holds;
DROP TABLE credit_ledger;
DROP TABLE credit_accounts;
