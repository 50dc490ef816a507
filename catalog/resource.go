package catalog

import (
	"encoding/json"

	"github.com/tongban/tongban/quality"
	"github.com/tongban/tongban/schemas"
)

// Subject types: whom a resource's records are about (持证/信息主体).
const (
	SubjectPerson      = "person"       // a natural person, keyed by citizen ID (身份证号)
	SubjectLegalPerson = "legal_person" // an organisation, keyed by USCC (统一社会信用代码)
	SubjectNone        = "none"         // not about a person or organisation
)

// Share types (共享类型).
const (
	ShareUnconditional = "unconditional" // 无条件共享
	ShareConditional   = "conditional"   // 有条件共享: needs share_basis
	ShareNone          = "none"          // 不予共享: needs share_basis
)

// Open types (开放类型).
const (
	OpenOpen        = "open"        // 无条件开放
	OpenConditional = "conditional" // 有条件开放: needs open_basis
	OpenClosed      = "closed"      // 不予开放: needs open_basis
)

// Update cycles (更新周期).
const (
	CycleRealtime  = "realtime"
	CycleDaily     = "daily"
	CycleWeekly    = "weekly"
	CycleMonthly   = "monthly"
	CycleQuarterly = "quarterly"
	CycleYearly    = "yearly"
)

// FormatTable is the format of structured records (数据库表), the default and
// the only format the exchange carries today.
const FormatTable = "table"

// Subject says whom a resource's records are about and which field holds the
// subject's key (the partitioning and merge key).
type Subject struct {
	Type  string `json:"type" yaml:"type"`                       // person, legal_person or none
	Field string `json:"field,omitempty" yaml:"field,omitempty"` // empty for none
	// LatestBy names a date or timestamp field that orders a subject's
	// records when a resource holds several per subject (e.g. marriage
	// registrations): the merge takes a field's value from the latest one.
	// Empty: the record with the greatest _version wins.
	LatestBy string `json:"latest_by,omitempty" yaml:"latest_by,omitempty"`
}

// Resource is one information resource (信息资源) of the catalog.
type Resource struct {
	Code        string         `json:"code" yaml:"code"`
	Name        string         `json:"name" yaml:"name"`
	Description string         `json:"description,omitempty" yaml:"description,omitempty"`
	Provider    string         `json:"provider" yaml:"provider"` // department code
	Subject     Subject        `json:"subject" yaml:"subject"`
	PrimaryKey  []string       `json:"primary_key" yaml:"primary_key"`
	Schema      schemas.Schema `json:"-" yaml:",inline"` // "fields" in YAML and JSON
	ShareType   string         `json:"share_type" yaml:"share_type"`
	ShareBasis  string         `json:"share_basis,omitempty" yaml:"share_basis,omitempty"`
	OpenType    string         `json:"open_type" yaml:"open_type"`
	OpenBasis   string         `json:"open_basis,omitempty" yaml:"open_basis,omitempty"`
	UpdateCycle string         `json:"update_cycle" yaml:"update_cycle"`
	Format      string         `json:"format" yaml:"format"`
	// Live marks a resource answered live (请求响应): a lookup by key is
	// routed to the providing department's agent, which reads the row from
	// its own database at the time of the call, instead of being served
	// from the hub's copy. False (the default) means only the copy.
	Live bool `json:"live" yaml:"live,omitempty"`
	// Rules are the quality rules of the fields in field order: an implicit
	// required rule for every non-nullable field outside the primary key,
	// then the rules declared in fields[].rules; compiled, with catalog code
	// lists resolved into Codes; run on every record at ingest.
	Rules []quality.Rule `json:"rules,omitempty" yaml:"-"`
	File  string         `json:"file,omitempty" yaml:"-"` // relative to the catalog directory; set by Load
}

// SubjectKeyField returns the field holding the subject's key (citizen ID or
// USCC), or "" when the subject type is none.
func (r *Resource) SubjectKeyField() string {
	if r.Subject.Type == SubjectNone {
		return ""
	}
	return r.Subject.Field
}

// resourceFields is Resource without its methods, so the JSON methods below
// can reuse the struct tags without recursing.
type resourceFields Resource

// MarshalJSON writes the resource with the schema's fields as "fields", like
// the YAML form, and the rules as "rules": one object per rule, in the keys
// of a quality rule file (kind, field, min, max, pattern, codes, list, with)
// plus the rule's line in the resource file. A rule naming a code list
// carries the list's codes, so the JSON is complete on its own.
func (r Resource) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		*resourceFields
		*schemas.Schema
		Rules []ruleJSON `json:"rules,omitempty"` // shadows resourceFields.Rules
	}{(*resourceFields)(&r), &r.Schema, rulesToJSON(r.Rules)})
}

// UnmarshalJSON reads what MarshalJSON writes, compiling the rules.
func (r *Resource) UnmarshalJSON(b []byte) error {
	var out Resource
	var rules []ruleJSON
	if err := json.Unmarshal(b, &struct {
		*resourceFields
		*schemas.Schema
		Rules *[]ruleJSON `json:"rules,omitempty"`
	}{(*resourceFields)(&out), &out.Schema, &rules}); err != nil {
		return err
	}
	var err error
	if out.Rules, err = rulesFromJSON(rules); err != nil {
		return err
	}
	*r = out
	return nil
}
