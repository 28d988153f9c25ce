using System.Net;
using System.Net.Sockets;

namespace EventSourcedRegistry.Api.Webhooks;

/// <summary>
/// The targets an operator allows beside the public internet (<c>Registry:Webhooks:AllowedTargets</c>): host names, IP
/// addresses and CIDR ranges, separated by commas, semicolons or spaces (e.g. <c>hooks.internal, 10.20.0.0/16, ::1</c>).
/// </summary>
public sealed class AllowedTargets
{
    private readonly HashSet<string> _hosts;
    private readonly List<IPNetwork> _networks;

    private AllowedTargets(HashSet<string> hosts, List<IPNetwork> networks)
    {
        _hosts = hosts;
        _networks = networks;
    }

    public static readonly AllowedTargets None = new([], []);

    /// <summary>The setting's entries; a malformed one stops the app at start-up (an allow-list must mean what it says).</summary>
    public static AllowedTargets Parse(string? setting)
    {
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var networks = new List<IPNetwork>();
        foreach (var entry in (setting ?? "").Split([',', ';', ' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var text = entry.Trim('[', ']');
            if (IPNetwork.TryParse(text, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(text, out var address)) networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            else if (Uri.CheckHostName(text) == UriHostNameType.Dns) hosts.Add(text.TrimEnd('.'));
            else
                throw new InvalidOperationException(
                    $"{WebhookOptions.Section}:AllowedTargets: '{entry}' is not a host name, an IP address or a CIDR range (e.g. 10.0.0.0/8).");
        }
        return new AllowedTargets(hosts, networks);
    }

    public bool AllowsHost(string host) => _hosts.Contains(host.TrimEnd('.'));

    public bool AllowsAddress(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _networks.Any(n => n.Contains(plain) || n.Contains(address));
    }
}

/// <summary>
/// Where the registry may send a webhook (SSRF): http or https only, and never into the registry's own networks — loopback,
/// link-local (the cloud metadata service at 169.254.169.254 among them), private (RFC 1918), unique-local IPv6, shared
/// CGNAT space (100.64.0.0/10), multicast, unspecified and reserved ranges, in whichever form the address is written (an
/// IPv4-mapped IPv6 address, a NAT64 one) — unless <see cref="AllowedTargets"/> allows the host or the address. Checked
/// when a subscription is made, and again by the sender on the address it actually connects to (a name can resolve to
/// another address by then: DNS rebinding).
/// </summary>
public static class WebhookTargetPolicy
{
    public const int MaxUrlLength = 2048;

    /// <summary>
    /// The target as a URL the registry may call; else the problem and whether it is a refusal (a URL the registry does not
    /// call: 422) rather than no URL at all (400).
    /// </summary>
    public static (Uri? Target, string? Problem, bool Refused) CheckUrl(string? raw, AllowedTargets allowed)
    {
        if (string.IsNullOrWhiteSpace(raw)) return (null, "A target URL is required, e.g. \"https://cd.example.com/hooks/registry\".", false);
        if (raw.Length > MaxUrlLength) return (null, $"A target URL has at most {MaxUrlLength} characters.", false);
        // Names its scheme itself: on Unix a bare path ("/x") would otherwise parse as a file: URL.
        if (raw.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || !Uri.TryCreate(raw, UriKind.Absolute, out var uri)
            || !raw.StartsWith(uri.Scheme + ":", StringComparison.OrdinalIgnoreCase))
            return (null, "The target is not an absolute URL, e.g. \"https://cd.example.com/hooks/registry\".", false);
        if (uri.Scheme is not ("http" or "https")) return (null, $"The target's scheme is '{uri.Scheme}': only http and https targets are called.", true);
        if (uri.UserInfo.Length > 0) return (null, "The target may not carry credentials (user:password@); the signature authenticates the registry.", true);
        if (uri.Host.Length == 0) return (null, "The target names no host.", false);
        if (uri.Fragment.Length > 0) return (null, "The target may not carry a fragment (#…).", false);
        if (allowed.AllowsHost(uri.IdnHost)) return (uri, null, false);
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && Refusal(literal, allowed) is { } refused)
            return (null, NotPublic(uri.IdnHost, refused), true);
        return (uri, null, false);
    }

    public static string NotPublic(string target, string kind) =>
        $"The target {target} is {kind}; the registry calls only public addresses unless {WebhookOptions.Section}:AllowedTargets allows it.";

    /// <summary>Why the registry may not connect to the address (null: it may).</summary>
    public static string? Refusal(IPAddress address, AllowedTargets allowed) =>
        allowed.AllowsAddress(address) ? null : Classify(address);

    /// <summary>The kind of non-public range the address is in, or null for a public address.</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return Classify(address.MapToIPv4()) is { } mapped ? $"{mapped} (IPv4-mapped)" : null;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Any)) return "unspecified";
            if (address.Equals(IPAddress.IPv6Loopback)) return "loopback";
            var bytes = address.GetAddressBytes();
            // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d) reach the IPv4 address they embed.
            if (In(address, "64:ff9b::/96") || bytes.Take(12).All(b => b == 0))
                return Classify(new IPAddress(bytes[12..])) is { } embedded ? $"{embedded} (embedded IPv4)" : null;
            if (address.IsIPv6Multicast) return "multicast";
            if (address.IsIPv6LinkLocal) return "link-local";
            if (address.IsIPv6SiteLocal) return "site-local";
            if (In(address, "fc00::/7")) return "unique-local (private)";
            // 6to4 (2002::/16) embeds an IPv4 address too.
            if (bytes[0] == 0x20 && bytes[1] == 0x02) return Classify(new IPAddress(bytes[2..6])) is { } sixToFour ? $"{sixToFour} (6to4)" : null;
            return null;
        }
        if (address.AddressFamily != AddressFamily.InterNetwork) return "not an IP address";
        return Ipv4Ranges.FirstOrDefault(r => r.Network.Contains(address)).Kind;
    }

    private static readonly (IPNetwork Network, string Kind)[] Ipv4Ranges =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("10.0.0.0/8"), "private (RFC 1918)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private (RFC 1918)"),
        (IPNetwork.Parse("192.168.0.0/16"), "private (RFC 1918)"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (CGNAT)"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved (IETF protocol assignments)"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved (benchmarking)"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
    ];

    private static bool In(IPAddress address, string network) => IPNetwork.Parse(network).Contains(address);
}
