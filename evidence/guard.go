package evidence

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// blockedRange is one address range the fetcher never dials, with the
// reason shown to people when a publication URL lands in it.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges are the addresses that are not the public Internet: the
// IANA IPv4 and IPv6 special-purpose address registries (entries whose
// "globally reachable" is false, or that can embed such an address), plus
// the cloud-metadata addresses Gitea's hostmatcher lists. They are data,
// not code, so that a new registry entry is one line. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are unmapped before the lookup, so the IPv4
// rows cover them too. IPv6 outside 2000::/3 is refused after this list
// (see Guard.check): only global unicast is dialed.
var blockedRanges = []blockedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "«esta red» (0.0.0.0/8)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "red privada (10.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "red compartida de proveedor, CGNAT (100.64.0.0/10)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback, el propio servidor (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, donde están los metadatos de la nube (169.254.0.0/16)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "red privada (172.16.0.0/12)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reservada por la IETF (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "reservada para documentación (192.0.2.0/24)"},
	{netip.MustParsePrefix("192.31.196.0/24"), "reservada, AS112 (192.31.196.0/24)"},
	{netip.MustParsePrefix("192.52.193.0/24"), "reservada, AMT (192.52.193.0/24)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "reservada, relevo 6to4 (192.88.99.0/24)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "red privada (192.168.0.0/16)"},
	{netip.MustParsePrefix("192.175.48.0/24"), "reservada, AS112 (192.175.48.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reservada para pruebas de rendimiento (198.18.0.0/15)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "reservada para documentación (198.51.100.0/24)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "reservada para documentación (203.0.113.0/24)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (224.0.0.0/4)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reservada (240.0.0.0/4, incluye 255.255.255.255)"},
	{netip.MustParsePrefix("168.63.129.16/32"), "servicio interno de la nube de Azure (168.63.129.16)"},

	{netip.MustParsePrefix("::/128"), "dirección no especificada (::)"},
	{netip.MustParsePrefix("::1/128"), "loopback, el propio servidor (::1)"},
	{netip.MustParsePrefix("::/96"), "IPv6 compatible con IPv4, obsoleta (::/96)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64, puede esconder una dirección IPv4 interna (64:ff9b::/96)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "NAT64 local (64:ff9b:1::/48)"},
	{netip.MustParsePrefix("100::/64"), "reservada para descarte (100::/64)"},
	{netip.MustParsePrefix("2001::/23"), "reservada por la IETF, incluye Teredo (2001::/23)"},
	{netip.MustParsePrefix("2001:db8::/32"), "reservada para documentación (2001:db8::/32)"},
	{netip.MustParsePrefix("2002::/16"), "6to4, puede esconder una dirección IPv4 interna (2002::/16)"},
	{netip.MustParsePrefix("3fff::/20"), "reservada para documentación (3fff::/20)"},
	{netip.MustParsePrefix("5f00::/16"), "reservada, SRv6 (5f00::/16)"},
	{netip.MustParsePrefix("fc00::/7"), "red privada IPv6 (fc00::/7)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local IPv6 (fe80::/10)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local IPv6, obsoleta (fec0::/10)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast IPv6 (ff00::/8)"},
}

// globalUnicast6 is the only IPv6 block handed out for the public Internet.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// allowedPorts are the only ports dialed outside the allow-list.
var allowedPorts = map[uint16]bool{80: true, 443: true}

// BlockedError is returned (inside the dial error) when the fetcher refuses
// to dial an address.
type BlockedError struct {
	Addr string // the address that would have been dialed, "ip:port"
	// Reason completes "<Addr> …" in Spanish, e.g. "es una dirección de
	// loopback, el propio servidor (127.0.0.0/8), no de Internet".
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("no se consulta %s: %s", e.Addr, e.Reason)
}

// Guard decides which addresses the fetcher may dial. Its Control method is
// a net.Dialer.Control: it runs for every connection attempt with the
// address actually dialed (after DNS, for each address Happy Eyeballs
// tries), so a name that resolves to an internal address, a second DNS
// answer (rebinding) or a redirect to one cannot get through.
type Guard struct {
	// Allow are ranges dialed even though they are not public, on any port
	// (DATOSBOT_FETCH_ALLOW: tests on loopback, intranets).
	Allow []netip.Prefix
}

// Control is a net.Dialer.Control.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return &BlockedError{Addr: address, Reason: "no es TCP (" + network + ")"}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Addr: address, Reason: "no es una dirección legible"}
	}
	return g.check(ap)
}

// check refuses ap unless it is allowed or a public address on port 80 or
// 443.
func (g *Guard) check(ap netip.AddrPort) error {
	ip := ap.Addr().Unmap().WithZone("")
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(int(ap.Port())))
	if reason := blockedReason(ip); reason != "" {
		return &BlockedError{Addr: addr, Reason: "es una dirección de " + reason + ", no de Internet"}
	}
	if !allowedPorts[ap.Port()] {
		return &BlockedError{Addr: addr, Reason: fmt.Sprintf("usa el puerto %d; solo se consultan los puertos 80 y 443", ap.Port())}
	}
	return nil
}

// blockedReason says why ip is not a public address, or "" when it is.
func blockedReason(ip netip.Addr) string {
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return "IPv6 fuera de unicast global (2000::/3)"
	}
	return ""
}

// ParseAllow reads DATOSBOT_FETCH_ALLOW: comma-separated CIDRs (a bare
// address means just that address).
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitComma(s) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q no es un rango CIDR (por ejemplo 127.0.0.1/32 o 10.20.0.0/16)", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
