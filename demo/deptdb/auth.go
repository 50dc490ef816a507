package deptdb

import (
	"crypto/x509"
	"net"

	"github.com/dolthub/vitess/go/mysql"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// rootAuth accepts the user root with an empty password (mysql_native_password) and nobody
// else.
type rootAuth struct {
	methods []mysql.AuthMethod
}

func newRootAuth() *rootAuth {
	a := &rootAuth{}
	a.methods = []mysql.AuthMethod{mysql.NewMysqlNativeAuthMethod(a, a)}
	return a
}

// AuthMethods implements mysql.AuthServer.
func (a *rootAuth) AuthMethods() []mysql.AuthMethod { return a.methods }

// DefaultAuthMethodDescription implements mysql.AuthServer.
func (a *rootAuth) DefaultAuthMethodDescription() mysql.AuthMethodDescription {
	return mysql.MysqlNativePassword
}

// HandleUser implements mysql.UserValidator; the check happens in UserEntryWithHash so that
// other users get "access denied" rather than a handshake error.
func (a *rootAuth) HandleUser(string, net.Addr) bool { return true }

// UserEntryWithHash implements mysql.HashStorage: an empty password scrambles to an empty
// response.
func (a *rootAuth) UserEntryWithHash(_ []*x509.Certificate, _ []byte, user string, authResponse []byte, _ net.Addr) (mysql.Getter, error) {
	if user != "root" || len(authResponse) != 0 {
		return nil, sqlError(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError,
			"Access denied for user '%s' (deptdb accepts root without password)", user)
	}
	return rootUser{}, nil
}

type rootUser struct{}

func (rootUser) Get() *querypb.VTGateCallerID { return &querypb.VTGateCallerID{Username: "root"} }
