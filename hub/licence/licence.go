// Package licence is the e-licence store (电子证照库): licences issued,
// updated and revoked by their issuing departments, sealed with SM2, and
// verified through the store.
package licence

// Service is the licence store. (Placeholder: being built.)
type Service struct{}
