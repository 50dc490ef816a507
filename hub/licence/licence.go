// Package licence is the e-licence store (电子证照库): licences issued,
// updated and revoked by their issuing departments, sealed with SM2, and
// verified through the store.
//
// Issue: the issuing department (the licence type's issuer in the licence
// catalogue, catalog.LicenceType) gives type, holder, dates and data fields;
// the store assigns the serial, the identifier (GB/T 36904, version 001) is
// computed, the content is encoded canonically (Content.Canonical), hashed
// with SM3 and sealed with the issuer's SM2 key (seal.go).
//
// Lifecycle (同步签发、同步更新、同步废止, 大庆 第十三条): update and renew
// make a new version (the previous one is superseded: its identifier no
// longer verifies); suspend (暂扣) / resume, pledge (质押) / release, revoke
// (废止) and cancel (注销) change the status. Every change is an event with
// who, when and why; revoke, suspend and cancel need a reason. A change the
// current status does not allow fails with a *TransitionError.
//
// Verify (核验): screenshots and copies have no validity, so a verification
// always reads the store: status, current version, the SM3 digest recomputed
// from the stored content, the seal checked with SM2. Expiry is computed from
// valid_until on the day of the verification (China Standard Time).
package licence

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
)

// Store is what the service needs of the hub store (*store.DB).
type Store interface {
	IssueLicence(ctx context.Context, in store.LicenceIssue, seal store.LicenceSealer) (store.Licence, store.LicenceVersion, error)
	ChangeLicence(ctx context.Context, id int64, at time.Time, decide store.LicenceChanger) (store.Licence, error)
	GetLicence(ctx context.Context, id int64) (store.Licence, error)
	LicenceByIdentifier(ctx context.Context, identifier string) (store.Licence, int, error)
	LicenceForVerify(ctx context.Context, identifier string) (store.LicenceCheck, error)
	LicenceVersions(ctx context.Context, id int64) ([]store.LicenceVersion, error)
	LicenceEvents(ctx context.Context, id int64) ([]store.LicenceEvent, error)
	ListLicences(ctx context.Context, f store.LicenceFilter) ([]store.Licence, error)
	LicenceSealOf(ctx context.Context, dept string) (store.LicenceSeal, error)
	AddLicenceSeal(ctx context.Context, k store.LicenceSeal) (store.LicenceSeal, error)
}

// randReader is the randomness of keys and signatures.
type randReader = io.Reader

// Errors the API maps to answers; *InputError is the 400, *TransitionError
// (errors.Is ErrTransition) the 409.
var (
	ErrNotFound   = errors.New("licence not found")
	ErrForbidden  = errors.New("not allowed for this caller")
	ErrTransition = errors.New("the licence's status does not allow this change")
)

// InputError is a bad request, naming the request key at fault.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// TransitionError is a lifecycle change the licence's status does not allow.
type TransitionError struct {
	Action, Status string
	Msg            string // Chinese, then English
}

func (e *TransitionError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// Zone is the zone licence dates are taken in: China Standard Time.
func Zone() *time.Location { return time.FixedZone("Asia/Shanghai", 8*60*60) }

// Lifecycle actions (and the events they log, with "issue").
const (
	ActionIssue   = "issue"
	ActionUpdate  = "update"  // 变更: a new version
	ActionRenew   = "renew"   // 延续: a new version with a later valid_until
	ActionSuspend = "suspend" // 暂扣 / 挂起
	ActionResume  = "resume"  // 恢复
	ActionPledge  = "pledge"  // 质押
	ActionRelease = "release" // 解除质押
	ActionRevoke  = "revoke"  // 废止
	ActionCancel  = "cancel"  // 注销
)

// Actions are the lifecycle actions of Change, in the order of the docs.
func Actions() []string {
	return []string{ActionUpdate, ActionRenew, ActionSuspend, ActionResume, ActionPledge, ActionRelease, ActionRevoke, ActionCancel}
}

// StatusExpired is the status a verification reports for a licence past its
// valid_until (not stored).
const StatusExpired = "expired"

// StatusName is the Chinese name of a status.
func StatusName(status string) string {
	switch status {
	case store.LicenceActive:
		return "有效"
	case store.LicenceSuspended:
		return "暂扣"
	case store.LicencePledged:
		return "质押"
	case store.LicenceRevoked:
		return "废止"
	case store.LicenceCancelled:
		return "注销"
	case StatusExpired:
		return "已过期"
	}
	return status
}

func actionName(action string) string {
	switch action {
	case ActionUpdate:
		return "变更"
	case ActionRenew:
		return "延续"
	case ActionSuspend:
		return "暂扣"
	case ActionResume:
		return "恢复"
	case ActionPledge:
		return "质押"
	case ActionRelease:
		return "解除质押"
	case ActionRevoke:
		return "废止"
	case ActionCancel:
		return "注销"
	}
	return action
}

// transition returns the status after action on a licence in status from,
// or the reason it is not allowed.
func transition(action, from string) (string, error) {
	final := from == store.LicenceRevoked || from == store.LicenceCancelled
	allowed := false
	to := from
	switch action {
	case ActionUpdate, ActionRenew:
		allowed = !final
	case ActionSuspend:
		allowed, to = from == store.LicenceActive, store.LicenceSuspended
	case ActionResume:
		allowed, to = from == store.LicenceSuspended, store.LicenceActive
	case ActionPledge:
		allowed, to = from == store.LicenceActive, store.LicencePledged
	case ActionRelease:
		allowed, to = from == store.LicencePledged, store.LicenceActive
	case ActionRevoke:
		allowed, to = !final, store.LicenceRevoked
	case ActionCancel:
		allowed, to = !final && from != store.LicencePledged, store.LicenceCancelled
	}
	if allowed {
		return to, nil
	}
	msg := fmt.Sprintf("证照当前状态为「%s」，不能%s / the licence is %s: it cannot be %s", StatusName(from), actionName(action), from, pastTense(action))
	if action == ActionCancel && from == store.LicencePledged {
		msg = "证照处于质押状态，须先解除质押才能注销 / the licence is pledged: release it before cancelling it"
	}
	return "", &TransitionError{Action: action, Status: from, Msg: msg}
}

func pastTense(action string) string {
	switch action {
	case ActionUpdate:
		return "updated"
	case ActionRenew:
		return "renewed"
	case ActionSuspend:
		return "suspended"
	case ActionResume:
		return "resumed (it is not suspended)"
	case ActionPledge:
		return "pledged"
	case ActionRelease:
		return "released (it is not pledged)"
	case ActionRevoke:
		return "revoked"
	case ActionCancel:
		return "cancelled"
	}
	return action
}

// Limits of request values, in characters.
const (
	MaxReasonRunes     = 2000
	MaxHolderNameRunes = 255
	// LongTerm is the valid_until of a licence without an end (长期).
	LongTerm = "9999-12-31"
	// DefaultCacheSize is the default bound of the signature cache.
	DefaultCacheSize = 65536
)

// Config of a Service.
type Config struct {
	Store   Store            // required
	Catalog *catalog.Catalog // required: licence types (licences.yaml) and departments
	// Registry, when set, gets tongban_licence_verifications_total{result},
	// tongban_licence_changes_total{event} and
	// tongban_licence_seal_cache_hits_total.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the randomness of seal keys and signatures; crypto/rand when nil.
	Rand io.Reader
	// CacheSize bounds the cache of successful seal verifications
	// (DefaultCacheSize when 0; negative: no cache).
	CacheSize int
}

// Service is the e-licence store. It is safe for concurrent use.
type Service struct {
	st    Store
	cat   *catalog.Catalog
	log   *slog.Logger
	now   func() time.Time
	rnd   io.Reader
	zone  *time.Location
	keys  *keyring
	cache *sigCache
	m     metrics
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, errors.New("licence: Store and Catalog are required")
	}
	s := &Service{st: cfg.Store, cat: cfg.Catalog, log: cfg.Logger, now: cfg.Now, rnd: cfg.Rand, zone: Zone(),
		keys: newKeyring(cfg.Store), m: newMetrics()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rnd == nil {
		s.rnd = rand.Reader
	}
	switch {
	case cfg.CacheSize == 0:
		s.cache = newSigCache(DefaultCacheSize)
	case cfg.CacheSize < 0:
		s.cache = newSigCache(0)
	default:
		s.cache = newSigCache(cfg.CacheSize)
	}
	if cfg.Registry != nil {
		if err := s.m.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("licence: register metrics: %w", err)
		}
	}
	return s, nil
}

// today is the current date in Zone.
func (s *Service) today() string { return s.now().In(s.zone).Format(time.DateOnly) }

// IssueRequest is a new licence.
type IssueRequest struct {
	TypeCode   string
	HolderID   string
	HolderName string
	IssueDate  string // 2006-01-02; today (China Standard Time) when empty
	ValidFrom  string // the issue date when empty
	ValidUntil string // required; LongTerm for 长期
	Fields     map[string]string
	Reason     string // optional note
}

// Issued is a licence as issued or changed, with its current content.
type Issued struct {
	Licence store.Licence
	Content Content
	Digest  string
}

func checkText(field, v string, maxRunes int, required bool) error {
	switch {
	case v == "" && required:
		return inputErr(field, "必填 / %s is required", field)
	case !utf8.ValidString(v):
		return inputErr(field, "不是有效的 UTF-8 / %s is not valid UTF-8", field)
	case utf8.RuneCountInString(v) > maxRunes:
		return inputErr(field, "超过 %d 个字符 / %s is longer than %d characters", maxRunes, field, maxRunes)
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
		return inputErr(field, "含控制字符 / %s contains a control character", field)
	case v != strings.TrimSpace(v):
		return inputErr(field, "首尾有空白 / %s has leading or trailing white space", field)
	}
	return nil
}

func checkDate(field, v string) error {
	if t, err := time.Parse(time.DateOnly, v); err != nil || t.Format(time.DateOnly) != v {
		return inputErr(field, "%q 不是 YYYY-MM-DD 日期 / %s %q is not a date YYYY-MM-DD", clip(v), field, clip(v))
	}
	return nil
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// checkHolder validates a holder identifier of the type's holder kind.
func (s *Service) checkHolder(holderType, id string) error {
	switch holderType {
	case catalog.SubjectPerson:
		if len(id) != 18 {
			return inputErr("holder_id", "持证主体为自然人，须为 18 位公民身份号码 / the holder is a person: give the 18-character citizen ID")
		}
		if err := identifier.ValidateCitizenIDAt(id, s.now()); err != nil {
			return inputErr("holder_id", "公民身份号码无效 / invalid citizen ID: %v", err)
		}
	case catalog.SubjectLegalPerson:
		if err := identifier.ValidateUSCC(id); err != nil {
			return inputErr("holder_id", "统一社会信用代码无效 / invalid unified social credit code: %v", err)
		}
	default:
		return fmt.Errorf("licence: holder type %q of the catalogue is unknown", holderType)
	}
	return nil
}

// checkFields validates a licence's data fields against its type.
func checkFields(lt *catalog.LicenceType, fields map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		f, ok := lt.Field(name)
		if !ok {
			known := make([]string, len(lt.Fields))
			for i, f := range lt.Fields {
				known[i] = f.Name
			}
			return inputErr("fields."+name, "证照类型 %s 没有数据项 %q / licence type %s has no field %q (fields: %s)",
				lt.Code, clip(name), lt.Code, clip(name), strings.Join(known, ", "))
		}
		limit := f.MaxLength
		if limit == 0 {
			limit = catalog.MaxLicenceFieldRunes
		}
		if err := checkText("fields."+name, fields[name], limit, f.Required); err != nil {
			return err
		}
	}
	for _, f := range lt.Fields {
		if _, ok := fields[f.Name]; f.Required && !ok {
			return inputErr("fields."+f.Name, "必填数据项「%s」缺失 / required field %s is missing", f.Label, f.Name)
		}
	}
	return nil
}

func checkValidity(issue, from, until string) error {
	for _, d := range []struct{ field, v string }{{"issue_date", issue}, {"valid_from", from}, {"valid_until", until}} {
		if err := checkDate(d.field, d.v); err != nil {
			return err
		}
	}
	if until < from {
		return inputErr("valid_until", "有效期截止 %s 早于起始 %s / valid_until %s is before valid_from %s", until, from, until, from)
	}
	return nil
}

func (s *Service) deptName(code string) string {
	if d, ok := s.cat.Department(code); ok {
		return d.Name
	}
	return ""
}

// Issue issues a licence as p's department, which must be an issuer of the
// type in the licence catalogue.
func (s *Service) Issue(ctx context.Context, p auth.Principal, in IssueRequest) (Issued, error) {
	if p.Role != auth.RoleDept || p.Dept == "" {
		return Issued{}, fmt.Errorf("licence: issue: only an issuing department may issue: %w", ErrForbidden)
	}
	if in.TypeCode == "" {
		return Issued{}, inputErr("type_code", "必填 / type_code is required")
	}
	lt, ok := s.cat.LicenceType(in.TypeCode)
	if !ok {
		return Issued{}, inputErr("type_code", "证照目录中没有类型 %q / no licence type %q in the licence catalogue", clip(in.TypeCode), clip(in.TypeCode))
	}
	if !lt.MayIssue(p.Dept) {
		return Issued{}, fmt.Errorf("licence: issue: department %s is not an issuer of %s (%s; issuers %s): %w",
			p.Dept, lt.Code, lt.Name, strings.Join(lt.Issuers, ", "), ErrForbidden)
	}
	if err := s.checkHolder(lt.Holder, in.HolderID); err != nil {
		return Issued{}, err
	}
	if err := checkText("holder_name", in.HolderName, MaxHolderNameRunes, true); err != nil {
		return Issued{}, err
	}
	if in.IssueDate == "" {
		in.IssueDate = s.today()
	}
	if in.ValidFrom == "" {
		in.ValidFrom = in.IssueDate
	}
	if in.ValidUntil == "" {
		return Issued{}, inputErr("valid_until", "必填（长期证照填 %s）/ valid_until is required (%s for a licence without end)", LongTerm, LongTerm)
	}
	if err := checkValidity(in.IssueDate, in.ValidFrom, in.ValidUntil); err != nil {
		return Issued{}, err
	}
	if in.Fields == nil {
		in.Fields = map[string]string{}
	}
	if err := checkFields(lt, in.Fields); err != nil {
		return Issued{}, err
	}
	if err := checkText("reason", in.Reason, MaxReasonRunes, false); err != nil {
		return Issued{}, err
	}
	// The seal key is made (on the first issue) before the store's write
	// transaction: recording it needs a write of its own.
	if _, err := s.keys.privateKey(ctx, p.Dept, s.rnd); err != nil {
		return Issued{}, err
	}
	var content Content
	var digest string
	seal := func(serial string) (store.LicenceVersion, error) {
		id, err := identifier.NewLicenceID(lt.Code, p.Dept, serial, 1)
		if err != nil {
			return store.LicenceVersion{}, fmt.Errorf("licence: identifier: %w", err)
		}
		content = Content{Identifier: id.String(), TypeCode: lt.Code, TypeName: lt.Name, Issuer: p.Dept, IssuerName: s.deptName(p.Dept),
			HolderType: lt.Holder, HolderID: in.HolderID, HolderName: in.HolderName, IssueDate: in.IssueDate,
			ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil, Fields: maps.Clone(in.Fields), Version: 1}
		return s.sealVersion(ctx, content, &digest)
	}
	l, _, err := s.st.IssueLicence(ctx, store.LicenceIssue{TypeCode: lt.Code, Issuer: p.Dept, HolderType: lt.Holder,
		HolderID: in.HolderID, HolderName: in.HolderName, ValidUntil: in.ValidUntil, Actor: p.TokenID, Reason: in.Reason,
		At: s.now()}, seal)
	if err != nil {
		return Issued{}, err
	}
	s.m.changes.WithLabelValues(ActionIssue).Inc()
	s.log.InfoContext(ctx, "licence: issued", "licence", l.Identifier, "type", lt.Code, "issuer", p.Dept, "actor", p.TokenID)
	return Issued{Licence: l, Content: content, Digest: digest}, nil
}

// sealVersion encodes, hashes and seals c as a store version.
func (s *Service) sealVersion(ctx context.Context, c Content, digest *string) (store.LicenceVersion, error) {
	b := c.Canonical()
	d := Digest(b)
	raw, _ := hexDecode(d)
	sig, err := s.keys.sign(ctx, c.Issuer, raw, s.rnd)
	if err != nil {
		return store.LicenceVersion{}, err
	}
	*digest = d
	return store.LicenceVersion{Version: c.Version, Identifier: c.Identifier, Content: b, Digest: d, Signature: sig}, nil
}

// ChangeRequest is a lifecycle change of a licence by its issuer.
type ChangeRequest struct {
	Action string // one of Actions()
	Reason string // required for revoke, suspend and cancel
	// For update: the new holder name, validity and data fields (each kept
	// when empty or absent; a field given as "" is removed if optional).
	// For renew: ValidUntil, later than the current one.
	HolderName string
	ValidFrom  string
	ValidUntil string
	Fields     map[string]string
}

// reasonRequired: revoke, suspend and cancel state their reason.
func reasonRequired(action string) bool {
	return action == ActionRevoke || action == ActionSuspend || action == ActionCancel
}

// Change applies a lifecycle change to the licence one of whose version
// identifiers is id. Status changes accept any version's identifier; update
// and renew need the current one (so a change made from a stale copy fails
// with a *TransitionError).
func (s *Service) Change(ctx context.Context, p auth.Principal, id string, ch ChangeRequest) (Issued, error) {
	if !slices.Contains(Actions(), ch.Action) {
		return Issued{}, inputErr("action", "%q 不是证照操作 / %q is not a licence action (want %s)", clip(ch.Action), clip(ch.Action), strings.Join(Actions(), ", "))
	}
	if err := checkText("reason", ch.Reason, MaxReasonRunes, reasonRequired(ch.Action)); err != nil {
		var ie *InputError
		if errors.As(err, &ie) && ch.Reason == "" {
			ie.Msg = fmt.Sprintf("%s须说明理由 / a %s states its reason", actionName(ch.Action), ch.Action)
		}
		return Issued{}, err
	}
	if ch.Action != ActionUpdate {
		for _, k := range []struct {
			key string
			set bool
		}{{"holder_name", ch.HolderName != ""}, {"valid_from", ch.ValidFrom != ""}, {"fields", len(ch.Fields) > 0}} {
			if k.set {
				return Issued{}, inputErr(k.key, "只有 update 可改证照内容 / only update changes %s (this is %s)", k.key, ch.Action)
			}
		}
	}
	if ch.Action != ActionUpdate && ch.Action != ActionRenew && ch.ValidUntil != "" {
		return Issued{}, inputErr("valid_until", "只有 update、renew 可改有效期 / only update and renew change valid_until")
	}
	if ch.Action == ActionRenew && ch.ValidUntil == "" {
		return Issued{}, inputErr("valid_until", "延续须给出新的有效期截止日期 / renew needs the new valid_until")
	}
	l, asked, err := s.lookup(ctx, id)
	if err != nil {
		return Issued{}, err
	}
	if p.Role != auth.RoleDept || p.Dept != l.Issuer {
		return Issued{}, fmt.Errorf("licence: %s %s: only the issuer %s may change it: %w", ch.Action, id, l.Issuer, ErrForbidden)
	}
	lt, ok := s.cat.LicenceType(l.TypeCode)
	newVersion := ch.Action == ActionUpdate || ch.Action == ActionRenew
	if newVersion && !ok {
		return Issued{}, &TransitionError{Action: ch.Action, Status: l.Status,
			Msg: fmt.Sprintf("证照类型 %s 已不在证照目录中，不能生成新版本 / licence type %s is no longer in the catalogue: no new version can be made", l.TypeCode, l.TypeCode)}
	}
	if newVersion {
		if _, err := s.keys.privateKey(ctx, l.Issuer, s.rnd); err != nil {
			return Issued{}, err
		}
	}
	var (
		out    Issued
		digest string
	)
	decide := func(cur store.Licence, cv store.LicenceVersion) (store.LicenceChange, error) {
		to, err := transition(ch.Action, cur.Status)
		if err != nil {
			return store.LicenceChange{}, err
		}
		ev := store.LicenceEvent{Event: ch.Action, Actor: p.TokenID, Dept: p.Dept, Reason: ch.Reason}
		chg := store.LicenceChange{Status: to, Event: ev}
		c, err := ParseContent(cv.Content)
		if err != nil {
			return store.LicenceChange{}, fmt.Errorf("licence %s: stored content: %w", cur.Identifier, err)
		}
		if !newVersion {
			out.Content, digest = c, Digest(cv.Content)
			return chg, nil
		}
		if asked != cur.Version {
			return store.LicenceChange{}, &TransitionError{Action: ch.Action, Status: cur.Status,
				Msg: fmt.Sprintf("%s 不是当前版本（当前为 %s），请基于当前版本%s / %s is not the current version (%s): %s the current one",
					id, cur.Identifier, actionName(ch.Action), id, cur.Identifier, ch.Action)}
		}
		next, err := s.nextContent(lt, c, ch)
		if err != nil {
			return store.LicenceChange{}, err
		}
		nid, err := identifier.NewLicenceID(cur.TypeCode, cur.Issuer, cur.Serial, cur.Version+1)
		if err != nil {
			return store.LicenceChange{}, fmt.Errorf("licence: identifier: %w", err)
		}
		next.Identifier, next.Version = nid.String(), nid.Version
		v, err := s.sealVersion(ctx, next, &digest)
		if err != nil {
			return store.LicenceChange{}, err
		}
		chg.Next, chg.HolderName, chg.ValidUntil = &v, next.HolderName, next.ValidUntil
		chg.Event.Detail = detailJSON(map[string]any{"previous": cur.Identifier, "valid_until": next.ValidUntil})
		out.Content = next
		return chg, nil
	}
	nl, err := s.st.ChangeLicence(ctx, l.ID, s.now(), decide)
	if err != nil {
		var ie *InputError
		var te *TransitionError
		if errors.As(err, &ie) {
			return Issued{}, ie
		}
		if errors.As(err, &te) {
			return Issued{}, te
		}
		return Issued{}, err
	}
	s.m.changes.WithLabelValues(ch.Action).Inc()
	s.log.InfoContext(ctx, "licence: changed", "licence", nl.Identifier, "action", ch.Action, "status", nl.Status, "actor", p.TokenID)
	out.Licence, out.Digest = nl, digest
	return out, nil
}

// nextContent is the content of the next version: c changed by an update or
// a renewal, checked against the licence type.
func (s *Service) nextContent(lt *catalog.LicenceType, c Content, ch ChangeRequest) (Content, error) {
	next := c
	next.Fields = maps.Clone(c.Fields)
	next.TypeName, next.IssuerName = lt.Name, s.deptName(c.Issuer)
	if ch.Action == ActionRenew {
		if err := checkDate("valid_until", ch.ValidUntil); err != nil {
			return Content{}, err
		}
		if ch.ValidUntil <= c.ValidUntil {
			return Content{}, inputErr("valid_until", "延续后的截止日期 %s 须晚于当前的 %s / the renewed valid_until %s must be after the current %s",
				ch.ValidUntil, c.ValidUntil, ch.ValidUntil, c.ValidUntil)
		}
		next.ValidUntil = ch.ValidUntil
		return next, nil
	}
	if ch.HolderName != "" {
		if err := checkText("holder_name", ch.HolderName, MaxHolderNameRunes, true); err != nil {
			return Content{}, err
		}
		next.HolderName = ch.HolderName
	}
	if ch.ValidFrom != "" {
		next.ValidFrom = ch.ValidFrom
	}
	if ch.ValidUntil != "" {
		next.ValidUntil = ch.ValidUntil
	}
	if err := checkValidity(next.IssueDate, next.ValidFrom, next.ValidUntil); err != nil {
		return Content{}, err
	}
	for k, v := range ch.Fields {
		if v == "" {
			delete(next.Fields, k)
			if _, known := lt.Field(k); !known {
				return Content{}, inputErr("fields."+k, "证照类型 %s 没有数据项 %q / licence type %s has no field %q", lt.Code, clip(k), lt.Code, clip(k))
			}
			continue
		}
		next.Fields[k] = v
	}
	if err := checkFields(lt, next.Fields); err != nil {
		return Content{}, err
	}
	if next.HolderName == c.HolderName && next.ValidFrom == c.ValidFrom && next.ValidUntil == c.ValidUntil && maps.Equal(next.Fields, c.Fields) {
		return Content{}, inputErr("fields", "变更未改动任何内容 / the update changes nothing")
	}
	return next, nil
}

// lookup finds the licence of an identifier and the version it names.
func (s *Service) lookup(ctx context.Context, id string) (store.Licence, int, error) {
	if err := identifier.ValidateLicenceID(id); err != nil {
		return store.Licence{}, 0, inputErr("id", "电子证照标识无效 / invalid licence identifier %q: %v", clip(id), err)
	}
	l, v, err := s.st.LicenceByIdentifier(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Licence{}, 0, fmt.Errorf("licence %s: %w", id, ErrNotFound)
	}
	return l, v, err
}

// Detail is a licence with its versions and change log.
type Detail struct {
	Licence  store.Licence
	Content  Content // of the current version
	Versions []store.LicenceVersion
	Events   []store.LicenceEvent
}

// Get returns the licence one of whose identifiers is id, for its issuer or
// an admin.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Detail, error) {
	l, _, err := s.lookup(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	if !p.IsAdmin() && !(p.Role == auth.RoleDept && p.Dept == l.Issuer) {
		return Detail{}, fmt.Errorf("licence %s: only its issuer or the bureau may read it: %w", id, ErrForbidden)
	}
	d := Detail{Licence: l}
	if d.Versions, err = s.st.LicenceVersions(ctx, l.ID); err != nil {
		return Detail{}, err
	}
	if d.Events, err = s.st.LicenceEvents(ctx, l.ID); err != nil {
		return Detail{}, err
	}
	for _, v := range d.Versions {
		if v.Version == l.Version {
			if c, err := ParseContent(v.Content); err == nil {
				d.Content = c
			}
		}
	}
	return d, nil
}

// ListQuery selects licences; zero fields do not filter.
type ListQuery struct {
	HolderID string
	TypeCode string
	Status   string
	After    int64
	Limit    int
}

// List returns the licences an admin asks for, or those p's department
// issued.
func (s *Service) List(ctx context.Context, p auth.Principal, q ListQuery) ([]store.Licence, error) {
	f := store.LicenceFilter{HolderID: q.HolderID, TypeCode: q.TypeCode, Status: q.Status, After: q.After, Limit: q.Limit}
	switch {
	case p.IsAdmin():
	case p.Role == auth.RoleDept && p.Dept != "":
		f.Issuer = p.Dept
	default:
		return nil, fmt.Errorf("licence: list: %w", ErrForbidden)
	}
	return s.st.ListLicences(ctx, f)
}

// SealKey is a department's public seal key.
type SealKey struct {
	Dept      string
	DeptName  string
	PublicKey string // hex, uncompressed point 04||X||Y
	Algorithm string
	CreatedAt time.Time
}

// SealKey returns dept's public seal key; ErrNotFound before its first issue.
func (s *Service) SealKey(ctx context.Context, dept string) (SealKey, error) {
	k, err := s.st.LicenceSealOf(ctx, dept)
	if errors.Is(err, store.ErrNotFound) {
		return SealKey{}, fmt.Errorf("seal of %s: %w", dept, ErrNotFound)
	}
	if err != nil {
		return SealKey{}, err
	}
	return SealKey{Dept: k.Dept, DeptName: s.deptName(k.Dept), PublicKey: k.PublicKey, Algorithm: SealAlgorithm, CreatedAt: k.CreatedAt}, nil
}
