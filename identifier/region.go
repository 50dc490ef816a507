package identifier

import (
	"strings"
)

// provinceData lists the provincial-level divisions of GB/T 2260 (two-digit
// code, space, name), one a line. Only the province is checked for now; the
// full county list is a later issue. Kept as a constant so there is no
// package-level mutable state.
const provinceData = `
11 北京市
12 天津市
13 河北省
14 山西省
15 内蒙古自治区
21 辽宁省
22 吉林省
23 黑龙江省
31 上海市
32 江苏省
33 浙江省
34 安徽省
35 福建省
36 江西省
37 山东省
41 河南省
42 湖北省
43 湖南省
44 广东省
45 广西壮族自治区
46 海南省
50 重庆市
51 四川省
52 贵州省
53 云南省
54 西藏自治区
61 陕西省
62 甘肃省
63 青海省
64 宁夏回族自治区
65 新疆维吾尔自治区
71 台湾省
81 香港特别行政区
82 澳门特别行政区
`

// nationalRegion is the GB/T 2260 code of the whole country, used by USCCs of
// central-level organisations.
const nationalRegion = "100000"

// provinceMask has '1' at index n when the two-digit code n is in provinceData
// (a fast check for validators; TestProvinces keeps the two in step).
const provinceMask = "" +
	"0000000000" + // 00-09
	"0111110000" + // 10-19
	"0111000000" + // 20-29
	"0111111100" + // 30-39
	"0111111000" + // 40-49
	"1111100000" + // 50-59
	"0111110000" + // 60-69
	"0100000000" + // 70-79
	"0110000000" + // 80-89
	"0000000000" //   90-99

// isProvince reports whether code (two bytes) is a province code.
func isProvince(code string) bool {
	return len(code) == 2 && isDigit(code[0]) && isDigit(code[1]) && provinceMask[atoi(code)] == '1'
}

// Province is one provincial-level division of GB/T 2260.
type Province struct {
	Code string // two digits, e.g. "23"
	Name string // e.g. "黑龙江省"
}

// Provinces returns the provincial-level divisions in code order (a fresh slice).
func Provinces() []Province {
	var out []Province
	for line := range strings.Lines(provinceData) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		code, name, _ := strings.Cut(line, " ")
		out = append(out, Province{Code: code, Name: name})
	}
	return out
}

// ProvinceName returns the name of the province with the given two-digit code.
func ProvinceName(code string) (string, bool) {
	if !isProvince(code) {
		return "", false
	}
	i := strings.Index(provinceData, "\n"+code+" ")
	if i < 0 {
		return "", false
	}
	rest := provinceData[i+4:]
	end := strings.IndexByte(rest, '\n')
	return rest[:end], true
}

// ValidRegion reports whether code is a six-digit administrative division code
// whose first two digits are a GB/T 2260 province code.
func ValidRegion(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if !isDigit(code[i]) {
			return false
		}
	}
	return isProvince(code[:2])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
