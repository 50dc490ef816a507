package grant

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/schemas"
)

// Request is one share call to authorise. Purpose and ItemCode (the
// government service item the call serves) are required: every share call
// records who, what, when and why.
type Request struct {
	Dept     string
	Resource string
	Fields   []string // empty: every field the caller may see
	Purpose  string
	ItemCode string
	Scenario string // optional application scenario code
}

// Decision codes: why a request is allowed or denied.
const (
	CodeUnconditional    = "unconditional"      // allowed: 无条件共享
	CodeGrant            = "grant"              // allowed: a grant from an approved application
	CodeScenario         = "scenario"           // allowed: a scenario grant
	CodeProvider         = "provider"           // allowed: the department reads its own resource
	CodeShareNone        = "share_none"         // denied: 不予共享
	CodeNegativeList     = "negative_list"      // denied: on the negative list
	CodeNoGrant          = "no_grant"           // denied: conditional, no grant
	CodeGrantExpired     = "grant_expired"      // denied: the grant expired
	CodeGrantRevoked     = "grant_revoked"      // denied: the grant was revoked
	CodeFieldsNotGranted = "fields_not_granted" // denied: fields outside the grant
	CodeNotEligible      = "scenario_not_eligible"
	CodeScenarioScope    = "scenario_scope" // denied: resource or fields outside the scenario
	CodeUnknownDept      = "unknown_dept"
	CodeNoSubscription   = "no_subscription" // denied: no approved subscription
)

// Decision is the answer to a Request. Denials carry the reason (Chinese
// first, English after " / ") and the legal basis.
type Decision struct {
	Allowed  bool   `json:"allowed"`
	Dept     string `json:"dept"`
	Resource string `json:"resource"`
	// Fields are the fields the caller receives, in schema order.
	Fields []string `json:"fields,omitempty"`
	// Masked are the fields of Fields it receives masked (脱敏).
	Masked     []string `json:"masked,omitempty"`
	Code       string   `json:"code"`
	Reason     string   `json:"reason"`
	LegalBasis string   `json:"legal_basis,omitempty"`
	GrantID    int64    `json:"grant_id,omitempty"`
	Scenario   string   `json:"scenario,omitempty"`
	// Purpose and ItemCode repeat the request's, for the access log.
	Purpose  string `json:"purpose,omitempty"`
	ItemCode string `json:"item_code,omitempty"`
}

// Err returns nil for an allowed decision, else a *DeniedError.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &DeniedError{Decision: d}
}

func deny(d Decision, code, basis, zh, en string) Decision {
	d.Allowed, d.Fields, d.Masked, d.Code, d.LegalBasis = false, nil, nil, code, basis
	d.Reason = zh + " / " + en
	return d
}

// protected reports whether a field's classification masks it unless a
// grant names it.
func protected(f schemas.Field) bool {
	return f.Sensitivity == schemas.SensitivityPersonal || f.Sensitivity == schemas.SensitivitySecret
}

// Decide is the single place the share rule lives:
//
//  1. the provider reads its own resource in full (the lists restrict
//     sharing, not the holder's own use);
//  2. share type none: denied, with the catalog's legal basis;
//  3. the negative list: a listed resource is denied; listed fields are
//     denied when asked for and left out otherwise;
//  4. a named scenario: the department must be eligible and stay within
//     the scenario's resources and fields; the grant (source scenario) is
//     recorded on first use and reused while in force;
//  5. conditional: an active grant (not revoked, not expired at Now) must
//     cover the fields asked for; a denial says which grant lapsed;
//  6. unconditional: allowed; personal and sensitive fields are masked
//     unless an active grant names them.
//
// Errors are for bad requests (*InputError), an unknown resource
// (*NotFoundError) and store failures; denials are Decisions.
func (s *Service) Decide(ctx context.Context, req Request) (Decision, error) {
	d, err := s.decide(ctx, req)
	if err != nil {
		return Decision{}, err
	}
	result := "denied"
	if d.Allowed {
		result = "allowed"
	}
	s.decisions.WithLabelValues(result).Inc()
	return d, nil
}

func (s *Service) decide(ctx context.Context, req Request) (Decision, error) {
	if strings.TrimSpace(req.Dept) == "" {
		return Decision{}, inputErr("dept", "调用部门为空 / the calling department is empty")
	}
	if strings.TrimSpace(req.Purpose) == "" {
		return Decision{}, inputErr("purpose", "每次共享调用须说明用途 / every share call states its purpose")
	}
	if strings.TrimSpace(req.ItemCode) == "" {
		return Decision{}, inputErr("item_code", "每次共享调用须给出事项编码 / every share call names its service item code")
	}
	r, ok := s.cat.Resource(req.Resource)
	if !ok {
		return Decision{}, &NotFoundError{Field: "resource", Msg: fmt.Sprintf("目录中没有资源 %q / no resource %q in the catalog", req.Resource, req.Resource)}
	}
	if err := checkFieldNames(r, "fields", req.Fields); err != nil {
		return Decision{}, err
	}
	d := Decision{Dept: req.Dept, Resource: r.Code, Scenario: req.Scenario, Purpose: req.Purpose, ItemCode: req.ItemCode}
	if _, ok := s.cat.Department(req.Dept); !ok {
		return deny(d, CodeUnknownDept, "", "调用部门 "+req.Dept+" 不在政务部门清单中", "department "+req.Dept+" is not in the catalog's departments"), nil
	}
	if req.Dept == r.Provider {
		d.Allowed, d.Code = true, CodeProvider
		d.Fields = wantedFields(r, req.Fields, nil)
		d.Reason = "提供部门使用本部门资源 / the provider reads its own resource"
		return d, nil
	}
	if d, denied := s.excluded(d, r, req.Fields); denied {
		return d, nil
	}
	neg := s.negativeFields(r.Code)
	if req.Scenario != "" {
		return s.decideScenario(ctx, d, r, req, neg)
	}
	grants, err := s.grantsOf(ctx, req.Dept, r.Code, store.GrantShare)
	if err != nil {
		return Decision{}, err
	}
	now := s.now()
	var active []store.ShareGrant
	for _, g := range grants {
		if g.Active(now) {
			active = append(active, g)
		}
	}
	switch r.ShareType {
	case catalog.ShareConditional:
		return s.decideConditional(d, r, req, neg, grants, active, now), nil
	default: // unconditional
		named := map[string]int64{}
		for _, g := range active {
			for _, f := range g.Fields {
				if _, ok := named[f]; !ok {
					named[f] = g.ID
				}
			}
		}
		d.Allowed, d.Code = true, CodeUnconditional
		d.Reason = "无条件共享 / shared unconditionally"
		d.Fields = wantedFields(r, req.Fields, neg)
		for _, f := range d.Fields {
			fd := r.Schema.Fields[r.Schema.Index(f)]
			if !protected(fd) {
				continue
			}
			if id, ok := named[f]; ok {
				d.GrantID = id
			} else {
				d.Masked = append(d.Masked, f)
			}
		}
		return d, nil
	}
}

// excluded applies share type none and the negative list.
func (s *Service) excluded(d Decision, r *catalog.Resource, fields []string) (Decision, bool) {
	if r.ShareType == catalog.ShareNone {
		return deny(d, CodeShareNone, r.ShareBasis,
			fmt.Sprintf("资源 %s（%s）属于不予共享类", r.Code, r.Name),
			fmt.Sprintf("resource %s is not shared (share type none)", r.Code)), true
	}
	for _, e := range s.negByRes[r.Code] {
		if len(e.Fields) == 0 {
			return deny(d, CodeNegativeList, e.LegalBasis,
				fmt.Sprintf("资源 %s（%s）列入共享负面清单", r.Code, r.Name),
				fmt.Sprintf("resource %s is on the negative list", r.Code)), true
		}
		var hit []string
		for _, f := range fields {
			if slices.Contains(e.Fields, f) {
				hit = append(hit, f)
			}
		}
		if len(hit) > 0 {
			return deny(d, CodeNegativeList, e.LegalBasis,
				fmt.Sprintf("资源 %s 的信息项 %s 列入共享负面清单", r.Code, strings.Join(hit, "、")),
				fmt.Sprintf("fields %s of resource %s are on the negative list", strings.Join(hit, ", "), r.Code)), true
		}
	}
	return d, false
}

func (s *Service) negativeFields(resource string) map[string]bool {
	out := map[string]bool{}
	for _, e := range s.negByRes[resource] {
		for _, f := range e.Fields {
			out[f] = true
		}
	}
	return out
}

// wantedFields returns the fields asked for, or all fields but those of the
// negative list, in schema order.
func wantedFields(r *catalog.Resource, asked []string, neg map[string]bool) []string {
	var out []string
	for _, f := range r.Schema.Fields {
		if len(asked) > 0 && !slices.Contains(asked, f.Name) {
			continue
		}
		if len(asked) == 0 && neg[f.Name] {
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

func (s *Service) grantsOf(ctx context.Context, dept, resource, kind string) ([]store.ShareGrant, error) {
	gs, err := s.st.ListShareGrants(ctx, store.ShareGrantFilter{Dept: dept, Resource: resource, Kind: kind, Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("grant: grants of %s on %s: %w", dept, resource, err)
	}
	return gs, nil
}

func (s *Service) decideConditional(d Decision, r *catalog.Resource, req Request, neg map[string]bool,
	all, active []store.ShareGrant, now time.Time) Decision {
	basis := r.ShareBasis
	if len(active) == 0 {
		// Say why: the latest grant that lapsed.
		for i := len(all) - 1; i >= 0; i-- {
			g := all[i]
			if !g.RevokedAt.IsZero() {
				return deny(d, CodeGrantRevoked, basis,
					fmt.Sprintf("授权 %d 已于 %s 撤销：%s，请重新申请", g.ID, day(g.RevokedAt), g.RevokeReason),
					fmt.Sprintf("grant %d was revoked on %s (%s): file a new application", g.ID, day(g.RevokedAt), g.RevokeReason))
			}
			if !g.Active(now) {
				return deny(d, CodeGrantExpired, basis,
					fmt.Sprintf("授权 %d 已于 %s 到期，请重新申请", g.ID, day(g.ExpiresAt)),
					fmt.Sprintf("grant %d expired on %s: file a new application", g.ID, day(g.ExpiresAt)))
			}
		}
		return deny(d, CodeNoGrant, basis,
			fmt.Sprintf("资源 %s（%s）属于有条件共享类，须先提出共享申请并经提供部门同意", r.Code, r.Name),
			fmt.Sprintf("resource %s is shared on conditions: file an application and get the provider's approval", r.Code))
	}
	var pick *store.ShareGrant
	if len(req.Fields) == 0 {
		for i := range active {
			if pick == nil || len(active[i].Fields) > len(pick.Fields) {
				pick = &active[i]
			}
		}
	} else {
		for i := range active {
			if covers(active[i].Fields, req.Fields) {
				pick = &active[i]
				break
			}
		}
	}
	if pick == nil {
		var missing []string
		for _, f := range req.Fields {
			if !slices.ContainsFunc(active, func(g store.ShareGrant) bool { return slices.Contains(g.Fields, f) }) {
				missing = append(missing, f)
			}
		}
		if len(missing) == 0 {
			missing = req.Fields // each field is granted, but no single grant holds them all
		}
		return deny(d, CodeFieldsNotGranted, basis,
			fmt.Sprintf("现有授权未包含信息项 %s", strings.Join(missing, "、")),
			fmt.Sprintf("no grant covers fields %s", strings.Join(missing, ", ")))
	}
	d.Allowed, d.Code, d.GrantID = true, CodeGrant, pick.ID
	d.Reason = fmt.Sprintf("依授权 %d 共享 / shared under grant %d", pick.ID, pick.ID)
	asked := req.Fields
	if len(asked) == 0 {
		asked = pick.Fields
	}
	d.Fields = wantedFields(r, asked, neg)
	d.Fields = slices.DeleteFunc(d.Fields, func(f string) bool { return neg[f] })
	return d
}

func covers(granted, asked []string) bool {
	for _, f := range asked {
		if !slices.Contains(granted, f) {
			return false
		}
	}
	return true
}

func day(t time.Time) string { return t.In(Zone()).Format(time.DateOnly) }

func (s *Service) decideScenario(ctx context.Context, d Decision, r *catalog.Resource, req Request, neg map[string]bool) (Decision, error) {
	sc, ok := s.scenarios[req.Scenario]
	if !ok {
		return Decision{}, inputErr("scenario", "没有应用场景 %q / no application scenario %q", req.Scenario, req.Scenario)
	}
	if !sc.Eligible(req.Dept) {
		return deny(d, CodeNotEligible, sc.LegalBasis,
			fmt.Sprintf("部门 %s 不在应用场景 %s（%s）的适用部门之列", req.Dept, sc.Code, sc.Name),
			fmt.Sprintf("department %s is not eligible for scenario %s", req.Dept, sc.Code)), nil
	}
	sr, ok := sc.Resource(r.Code)
	if !ok {
		return deny(d, CodeScenarioScope, sc.LegalBasis,
			fmt.Sprintf("应用场景 %s 不包含资源 %s", sc.Code, r.Code),
			fmt.Sprintf("scenario %s does not cover resource %s", sc.Code, r.Code)), nil
	}
	var outside []string
	for _, f := range req.Fields {
		if !slices.Contains(sr.Fields, f) {
			outside = append(outside, f)
		}
	}
	if len(outside) > 0 {
		return deny(d, CodeScenarioScope, sc.LegalBasis,
			fmt.Sprintf("应用场景 %s 不包含信息项 %s（最小够用）", sc.Code, strings.Join(outside, "、")),
			fmt.Sprintf("scenario %s does not grant fields %s (least privilege)", sc.Code, strings.Join(outside, ", "))), nil
	}
	grants, err := s.grantsOf(ctx, req.Dept, r.Code, store.GrantShare)
	if err != nil {
		return Decision{}, err
	}
	now := s.now()
	var g *store.ShareGrant
	for i := range grants {
		gi := grants[i]
		if gi.Source != store.SourceScenario || gi.Scenario != sc.Code {
			continue
		}
		// A revoked scenario grant is not recorded afresh: the revocation
		// would be undone by the next call. The bureau restores access by
		// approving an application or by changing the scenario.
		if !gi.RevokedAt.IsZero() {
			return deny(d, CodeGrantRevoked, sc.LegalBasis,
				fmt.Sprintf("应用场景 %s 的授权 %d 已于 %s 撤销：%s；请向数据主管部门提出共享申请", sc.Code, gi.ID, day(gi.RevokedAt), gi.RevokeReason),
				fmt.Sprintf("the scenario %s grant %d was revoked on %s (%s): file an application with the bureau", sc.Code, gi.ID, day(gi.RevokedAt), gi.RevokeReason)), nil
		}
		if g == nil && gi.Active(now) && covers(gi.Fields, sr.Fields) {
			g = &grants[i]
		}
	}
	if g == nil {
		// Concurrent first calls may both record a grant; both are valid
		// and the next calls reuse the first.
		ng := store.ShareGrant{Kind: store.GrantShare, Source: store.SourceScenario, Dept: req.Dept, Resource: r.Code,
			Provider: r.Provider, Fields: sr.Fields, Purpose: req.Purpose, LegalBasis: sc.LegalBasis, Scenario: sc.Code,
			GrantedBy: "scenario:" + sc.Code, GrantedAt: now}
		if sc.ValidDays > 0 {
			ng.ExpiresAt = now.AddDate(0, 0, sc.ValidDays)
		}
		created, err := s.st.AddShareGrant(ctx, ng)
		if err != nil {
			return Decision{}, fmt.Errorf("grant: record scenario grant: %w", err)
		}
		s.log.InfoContext(ctx, "grant: scenario grant recorded", "grant", created.ID, "dept", req.Dept, "resource", r.Code, "scenario", sc.Code)
		g = &created
	}
	asked := req.Fields
	if len(asked) == 0 {
		asked = sr.Fields
	}
	d.Allowed, d.Code, d.GrantID = true, CodeScenario, g.ID
	d.Reason = fmt.Sprintf("符合应用场景 %s（%s），直接授权 / scenario %s grants it", sc.Code, sc.Name, sc.Code)
	d.LegalBasis = sc.LegalBasis
	d.Fields = slices.DeleteFunc(wantedFields(r, asked, neg), func(f string) bool { return neg[f] })
	return d, nil
}

// DecideSubscription says whether dept may follow resource's change stream:
// only with an approved subscription (bulk copy needs the bureau, 大庆
// 第20条, 吉林 第23条); share type none and the negative list apply.
func (s *Service) DecideSubscription(ctx context.Context, dept, resource string) (Decision, error) {
	r, ok := s.cat.Resource(resource)
	if !ok {
		return Decision{}, &NotFoundError{Field: "resource", Msg: fmt.Sprintf("目录中没有资源 %q / no resource %q in the catalog", resource, resource)}
	}
	d := Decision{Dept: dept, Resource: r.Code}
	if d, denied := s.excluded(d, r, nil); denied {
		s.decisions.WithLabelValues("denied").Inc()
		return d, nil
	}
	grants, err := s.grantsOf(ctx, dept, r.Code, store.GrantSubscription)
	if err != nil {
		return Decision{}, err
	}
	now := s.now()
	for _, g := range grants {
		if g.Active(now) {
			d.Allowed, d.Code, d.GrantID = true, CodeGrant, g.ID
			neg := s.negativeFields(r.Code)
			d.Fields = slices.DeleteFunc(wantedFields(r, g.Fields, nil), func(f string) bool { return neg[f] })
			d.Reason = fmt.Sprintf("依订阅授权 %d / under subscription grant %d", g.ID, g.ID)
			s.decisions.WithLabelValues("allowed").Inc()
			return d, nil
		}
	}
	s.decisions.WithLabelValues("denied").Inc()
	return deny(d, CodeNoSubscription, BulkCopyBasis,
		"批量复制（订阅变更流）须经公共数据主管部门同意，请提出订阅申请",
		"bulk copy (a change-stream subscription) needs the bureau's approval: file a subscription request"), nil
}

// BulkCopyBasis is the legal basis of the subscription rule.
const BulkCopyBasis = "《吉林省公共数据和一网通办管理办法（试行）》第二十三条：采用数据拷贝或者其他调用方式的，应当征得同级公共数据和电子政务主管部门的同意。"
