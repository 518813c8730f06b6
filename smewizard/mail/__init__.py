"""Pure email-authentication logic: SPF, DKIM, DMARC (parse, validate, evaluate, format)."""
