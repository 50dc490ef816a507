package config

import (
	"net/url"
	"strings"
)

// redacted replaces a password in logs and messages.
const redacted = "***"

// RedactDSN returns the DSN with its password replaced by ***, for logs. It
// understands the go-sql-driver form user:password@tcp(host)/db and URLs
// (scheme://user:password@host/db); other strings come back unchanged unless
// they contain a user:password@ part.
func RedactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), redacted)
				return strings.Replace(u.String(), url.QueryEscape(redacted), redacted, 1)
			}
			return dsn
		}
	}
	// go-sql-driver: the credentials end at the last '@' before the address.
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	creds := dsn[:at]
	if i := strings.Index(creds, "://"); i >= 0 {
		creds = creds[i+3:]
	}
	colon := strings.Index(creds, ":")
	if colon < 0 {
		return dsn
	}
	start := at - len(creds) + colon + 1
	return dsn[:start] + redacted + dsn[at:]
}
