package datagen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// countyData lists the counties people are registered in and organisations
// are registered at: GB/T 2260 code, province, prefecture, county, weight.
// The weight (1..10) is both the relative share of people and organisations
// and the number of hundreds digits of the citizen-ID sequence number the
// county uses, so distinct people get distinct IDs (see personSpace).
// The demo is centred on Daqing, with the other seed cities and a few others.
const countyData = `
230602 黑龙江省 大庆市 萨尔图区 10
230603 黑龙江省 大庆市 龙凤区 10
230604 黑龙江省 大庆市 让胡路区 10
230605 黑龙江省 大庆市 红岗区 8
230606 黑龙江省 大庆市 大同区 8
230621 黑龙江省 大庆市 肇州县 6
230622 黑龙江省 大庆市 肇源县 6
230623 黑龙江省 大庆市 林甸县 5
230624 黑龙江省 大庆市 杜尔伯特蒙古族自治县 5
230102 黑龙江省 哈尔滨市 道里区 4
230103 黑龙江省 哈尔滨市 南岗区 4
230104 黑龙江省 哈尔滨市 道外区 3
230108 黑龙江省 哈尔滨市 平房区 2
230109 黑龙江省 哈尔滨市 松北区 2
230110 黑龙江省 哈尔滨市 香坊区 3
230202 黑龙江省 齐齐哈尔市 龙沙区 3
230203 黑龙江省 齐齐哈尔市 建华区 3
230204 黑龙江省 齐齐哈尔市 铁锋区 3
231202 黑龙江省 绥化市 北林区 3
220102 吉林省 长春市 南关区 3
220103 吉林省 长春市 宽城区 2
220104 吉林省 长春市 朝阳区 3
220105 吉林省 长春市 二道区 2
220106 吉林省 长春市 绿园区 2
220202 吉林省 吉林市 昌邑区 2
220203 吉林省 吉林市 龙潭区 2
220204 吉林省 吉林市 船营区 2
220211 吉林省 吉林市 丰满区 1
340202 安徽省 芜湖市 镜湖区 2
340207 安徽省 芜湖市 鸠江区 2
110101 北京市 北京市 东城区 1
110102 北京市 北京市 西城区 1
110105 北京市 北京市 朝阳区 1
110108 北京市 北京市 海淀区 1
310101 上海市 上海市 黄浦区 1
310104 上海市 上海市 徐汇区 1
310115 上海市 上海市 浦东新区 1
210102 辽宁省 沈阳市 和平区 1
370102 山东省 济南市 历下区 1
410102 河南省 郑州市 中原区 1
510104 四川省 成都市 锦江区 1
`

// roadData and compoundData are street and residential-compound names used
// in addresses (generic names of the kind found in north-eastern cities).
const roadData = `中央大街 建设路 人民路 解放路 新华路 东风路 胜利路 友谊路 和平路 光明路 文化路 学府街
长江路 黄河路 世纪大道 铁人大道 创业大街 兴化路 龙南街 西宾路 春雷路 花园街 站前路 育才路 昆仑路
阳光路 迎宾路 纬二路 经三路 体育路 北二路 南一路 工农路 团结街 振兴路 民主街 新村路 湖滨路`

const compoundData = `东风新村 幸福家园 和谐小区 新华小区 学苑小区 锦绣花园 阳光嘉园 翠湖天地 丽景园 铁人小区
兴华小区 远望小区 乘风庄 银浪新区 景园小区 世纪花园 湖畔家园 春晖园 龙凤小区 创业城`

const buildingData = `大厦 商务中心 科技园 产业园 写字楼 商业广场`

// county is one row of countyData.
type county struct {
	code, province, city, name string
	weight                     int
}

// prefix is the address prefix 省市区 (the city is left out for municipalities).
func (c county) prefix() string {
	if c.city == c.province {
		return c.province + c.name
	}
	return c.province + c.city + c.name
}

// cityPrefix is the prefecture name as used in organisation names, e.g. 大庆市.
func (c county) cityPrefix() string { return c.city }

// parseCounties parses countyData; it is trusted constant data, checked by tests.
func parseCounties() []county {
	var out []county
	for line := range strings.Lines(countyData) {
		f := strings.Fields(line)
		if len(f) != 5 {
			continue
		}
		w, _ := strconv.Atoi(f[4])
		out = append(out, county{code: f[0], province: f[1], city: f[2], name: f[3], weight: w})
	}
	return out
}

// streetAddress returns a home address 路号 with an optional compound, building and room.
func (v *vocab) streetAddress(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(v.roads[r.IntN(len(v.roads))])
	b.WriteString(strconv.Itoa(1 + r.IntN(399)))
	b.WriteString("号")
	if r.IntN(2) == 0 {
		b.WriteString(v.compounds[r.IntN(len(v.compounds))])
		b.WriteString(strconv.Itoa(1 + r.IntN(40)))
		b.WriteString("栋")
		b.WriteString(strconv.Itoa(1 + r.IntN(6)))
		b.WriteString("单元")
		floor, room := 1+r.IntN(18), 1+r.IntN(4)
		b.WriteString(strconv.Itoa(floor*100 + room))
		b.WriteString("室")
	}
	return b.String()
}

// officeAddress returns a business address, sometimes in a named building.
func (v *vocab) officeAddress(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(v.roads[r.IntN(len(v.roads))])
	b.WriteString(strconv.Itoa(1 + r.IntN(399)))
	b.WriteString("号")
	if r.IntN(3) == 0 {
		b.WriteString(v.tradeChars[r.IntN(len(v.tradeChars))])
		b.WriteString(v.tradeChars[r.IntN(len(v.tradeChars))])
		b.WriteString(v.buildings[r.IntN(len(v.buildings))])
		b.WriteString(strconv.Itoa(1 + r.IntN(28)))
		b.WriteString("层")
	}
	return b.String()
}
