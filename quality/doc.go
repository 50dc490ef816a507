// Package quality holds the field rules run on every record at ingest
// (数据质量校验): required, length, pattern, code list, numeric range, date
// range, the identifier checks (citizen ID per GB 11643, USCC per GB 32100) and
// the cross-field checks that the birth date and sex inside a citizen ID agree
// with the record's birth-date and sex fields.
//
// A field's type is given by its schema (package schemas), so there is no type
// rule; ValidateAgainst checks that rules fit a schema. Rules are loaded from
// YAML (Parse, Load) or written in Go and compiled with Compile. Check runs
// them on one record, as JSON values the way the hub store keeps them, and
// returns the fixes it would apply (a 15-digit legacy citizen ID upgraded to 18
// characters) and the violations, each with an English and a Chinese reason.
//
// The rule file:
//
//	lists:                      # optional: named code lists for code_list and citizen_id rules
//	  marital: ["10", "20", "21", "22", "23", "30", "40", "90"]
//	  regions: ["230602", "230603", "232300"]   # GB/T 2260 codes, retired ones too
//	rules:
//	  - {kind: required, field: name}
//	  - {kind: length, field: name, max: 50}            # characters, not bytes
//	  - {kind: pattern, field: phone, pattern: '1[3-9][0-9]{9}'}   # must match the whole value
//	  - {kind: code_list, field: sex, list: GB/T 2261.1}           # built-in or from lists:
//	  - {kind: code_list, field: nation, codes: ["01", "02"]}      # inline
//	  - {kind: range, field: capital, min: "0", max: "1e12"}       # exact decimal comparison
//	  - {kind: date_range, field: birth_date, min: 1900-01-01, max: today}
//	  - {kind: citizen_id, field: citizen_id}
//	  - {kind: citizen_id, field: holder_id, list: regions}        # optional region list, see below
//	  - {kind: uscc, field: uscc}
//	  - {kind: citizen_id_birth, field: citizen_id, with: birth_date}
//	  - {kind: citizen_id_sex, field: citizen_id, with: sex}
//
// A citizen_id rule may name a region list (codes: inline, or list: a list
// of the file or one the caller resolves into Codes, as the catalog does with
// its GB/T 2260 list): the first six characters of the ID, after a legacy ID
// is upgraded, must then be one of its codes, and the violation names the
// code and the list ("行政区划代码 230699 不在 GB/T 2260 中"). Without a list only
// the province is checked. A region list should keep retired codes: an ID
// keeps the code of the place that issued it.
//
// Every rule except required passes a missing or null value: presence is the
// business of required alone.
package quality
