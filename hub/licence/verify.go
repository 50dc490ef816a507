package licence

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// Limits of a verification request, in characters.
const (
	MaxPurposeRunes  = 500
	MaxItemCodeRunes = 64
)

// VerifyRequest is a verification (核验) by a using organisation.
type VerifyRequest struct {
	ID       string // the licence identifier the verifier holds (any version)
	Purpose  string // 用证事由, required
	ItemCode string // the service item (事项编码) it serves, required
	// Holder, when given, must be the licence's holder (citizen ID or USCC).
	Holder string
	// Digest, when given, is the SM3 hex digest of the canonical content the
	// verifier holds; it must be the current version's.
	Digest string
}

// Reason codes of an invalid verification (and of notes on a valid one).
const (
	ReasonSeal           = "seal"            // the seal does not verify: content or signature changed
	ReasonRecordMismatch = "record_mismatch" // the licence record disagrees with its sealed content
	ReasonSuperseded     = "superseded"      // the identifier is of an earlier version
	ReasonStatus         = "status"          // suspended, revoked or cancelled
	ReasonExpired        = "expired"         // past valid_until
	ReasonNotYetValid    = "not_yet_valid"   // before valid_from
	ReasonHolder         = "holder_mismatch" // not the holder the verifier named
	ReasonDigest         = "digest_mismatch" // not the content the verifier holds
	NotePledged          = "pledged"         // valid, but pledged (质押)
)

// Reason is why a verification failed, or a note on a valid one.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"` // Chinese, then English
}

// Verification is the answer of Verify.
type Verification struct {
	Valid bool
	// Status is the licence's status on the day of the verification: its
	// stored status, or StatusExpired past valid_until.
	Status  string
	Reasons []Reason
	Notes   []Reason
	Licence store.Licence
	// Content is the current version's content (zero when it cannot be
	// decoded).
	Content      Content
	AskedVersion int
	// SealOK: the current version's stored content, hashed again with SM3,
	// carries the issuer's SM2 seal. SealCached: that answer came from the
	// cache of earlier successful verifications of the same key, digest and
	// signature (the digest recomputed all the same).
	SealOK     bool
	SealCached bool
	// Digest is the SM3 digest, recomputed, of the current version's content.
	Digest string
}

// CheckVerifyRequest validates a verification request; its errors are
// *InputError naming the request key.
func CheckVerifyRequest(req VerifyRequest) error {
	if req.ID == "" {
		return inputErr("id", "必填：电子证照标识 / id is required: the licence identifier")
	}
	if err := identifier.ValidateLicenceID(req.ID); err != nil {
		return inputErr("id", "电子证照标识无效 / invalid licence identifier %q: %v", clip(req.ID), err)
	}
	for _, f := range []struct {
		name, v string
		max     int
		what    string
	}{{"purpose", req.Purpose, MaxPurposeRunes, "用证事由 / the purpose of use"},
		{"item_code", req.ItemCode, MaxItemCodeRunes, "事项编码 / the service item code"}} {
		switch {
		case strings.TrimSpace(f.v) == "":
			return inputErr(f.name, "必填：%s; %s is required", f.what, f.name)
		case !utf8.ValidString(f.v):
			return inputErr(f.name, "不是有效的 UTF-8 / %s is not valid UTF-8", f.name)
		case utf8.RuneCountInString(f.v) > f.max:
			return inputErr(f.name, "超过 %d 个字符 / %s is longer than %d characters", f.max, f.name, f.max)
		}
	}
	if len(req.Holder) > 64 {
		return inputErr("holder", "过长 / holder is longer than 64 characters")
	}
	if req.Digest != "" {
		if b, err := hex.DecodeString(req.Digest); err != nil || len(b) != 32 {
			return inputErr("digest", "须为 64 位十六进制 SM3 摘要 / digest must be the SM3 digest in 64 hex digits")
		}
	}
	return nil
}

// Verify verifies a licence through the store: status and current version,
// the SM3 digest recomputed from the stored content and the issuer's SM2 seal
// on it, validity dates, and the holder and digest the verifier gives. The
// caller (the API) writes the audit entry. A licence that does not verify is
// an answer with Valid false and its reasons, not an error; an unknown one
// is ErrNotFound.
func (s *Service) Verify(ctx context.Context, req VerifyRequest) (Verification, error) {
	if err := CheckVerifyRequest(req); err != nil {
		return Verification{}, err
	}
	chk, err := s.st.LicenceForVerify(ctx, req.ID)
	if errors.Is(err, store.ErrNotFound) {
		s.m.verifications.WithLabelValues("not_found").Inc()
		return Verification{}, fmt.Errorf("licence %s: %w", req.ID, ErrNotFound)
	}
	if err != nil {
		s.m.verifications.WithLabelValues("error").Inc()
		return Verification{}, err
	}
	v := s.judge(chk, req)
	if v.SealCached {
		s.m.cacheHits.Inc()
	}
	if !v.SealOK {
		s.m.sealFailures.Inc()
	}
	if v.Valid {
		s.m.verifications.WithLabelValues("valid").Inc()
	} else {
		s.m.verifications.WithLabelValues("invalid").Inc()
	}
	return v, nil
}

func reason(code, zh, en string) Reason { return Reason{Code: code, Message: zh + " / " + en} }

// judge decides a verification from what the store read.
func (s *Service) judge(chk store.LicenceCheck, req VerifyRequest) Verification {
	l := chk.Licence
	v := Verification{Licence: l, AskedVersion: chk.AskedVersion, Status: l.Status}
	v.Digest = Digest(chk.Current.Content)
	if chk.SealPublicKey != "" {
		v.SealOK, v.SealCached = s.checkSeal(chk.SealPublicKey, v.Digest, chk.Current.Signature)
	}
	if !v.SealOK {
		v.Reasons = append(v.Reasons, reason(ReasonSeal, "电子印章验证失败，证照内容或签章已被改动",
			"the seal does not verify: the content or its signature was changed"))
	}
	c, perr := ParseContent(chk.Current.Content)
	if perr == nil {
		v.Content = c
	}
	if perr != nil || c.Identifier != l.Identifier || c.Version != l.Version || c.TypeCode != l.TypeCode || c.Issuer != l.Issuer ||
		c.HolderType != l.HolderType || c.HolderID != l.HolderID || c.HolderName != l.HolderName || c.ValidUntil != l.ValidUntil ||
		chk.Current.Digest != v.Digest {
		v.Reasons = append(v.Reasons, reason(ReasonRecordMismatch, "证照记录与签章内容不一致",
			"the licence record disagrees with its sealed content"))
	}
	if chk.AskedVersion != l.Version {
		v.Reasons = append(v.Reasons, reason(ReasonSuperseded,
			fmt.Sprintf("该标识为第 %03d 版，已被第 %03d 版（%s）取代", chk.AskedVersion, l.Version, l.Identifier),
			fmt.Sprintf("the identifier is of version %03d, superseded by version %03d (%s)", chk.AskedVersion, l.Version, l.Identifier)))
	}
	switch l.Status {
	case store.LicenceSuspended, store.LicenceRevoked, store.LicenceCancelled:
		v.Reasons = append(v.Reasons, reason(ReasonStatus, "证照已"+StatusName(l.Status), "the licence is "+l.Status))
	case store.LicencePledged:
		v.Notes = append(v.Notes, reason(NotePledged, "证照处于质押状态", "the licence is pledged"))
	}
	today := s.today()
	validFrom, validUntil := c.ValidFrom, l.ValidUntil
	if validUntil < today {
		if l.Status == store.LicenceActive || l.Status == store.LicencePledged {
			v.Status = StatusExpired
		}
		v.Reasons = append(v.Reasons, reason(ReasonExpired, "证照已于 "+validUntil+" 到期", "the licence expired on "+validUntil))
	}
	if validFrom != "" && today < validFrom {
		v.Reasons = append(v.Reasons, reason(ReasonNotYetValid, "证照自 "+validFrom+" 起生效", "the licence is valid from "+validFrom))
	}
	if req.Holder != "" && !strings.EqualFold(req.Holder, l.HolderID) {
		v.Reasons = append(v.Reasons, reason(ReasonHolder, "持证主体与证照不符", "the holder given is not the licence's holder"))
	}
	if req.Digest != "" && !strings.EqualFold(req.Digest, v.Digest) {
		v.Reasons = append(v.Reasons, reason(ReasonDigest, "所持证照内容与当前版本不一致（摘要不符）",
			"the content held is not the current version's (digest differs)"))
	}
	v.Valid = len(v.Reasons) == 0
	return v
}

// metrics of the service.
type metrics struct {
	verifications *prometheus.CounterVec
	changes       *prometheus.CounterVec
	cacheHits     prometheus.Counter
	sealFailures  prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_licence_verifications_total",
			Help: "Licence verifications (核验), by result: valid, invalid, not_found, error.",
		}, []string{"result"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tongban_licence_changes_total",
			Help: "Licence lifecycle changes, by event: issue, update, renew, suspend, resume, pledge, release, revoke, cancel.",
		}, []string{"event"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_licence_seal_cache_hits_total",
			Help: "Verifications whose SM2 seal check was answered by the cache of earlier successful checks (same key, recomputed digest and signature).",
		}),
		sealFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tongban_licence_seal_failures_total",
			Help: "Verifications whose stored content no longer carries the issuer's SM2 seal (content or signature altered in the store).",
		}),
	}
}

func (m metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.verifications, m.changes, m.cacheHits, m.sealFailures} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func detailJSON(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
