using System.Net;
using EventSourcedRegistry.Api.Webhooks;

namespace EventSourcedRegistry.Tests.Webhooks;

/// <summary>The SSRF policy: which targets a subscription may name and which addresses the sender may connect to.</summary>
public class when_checking_webhook_targets
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.8.9.10", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fd12:3456::1", "unique-local")]
    [InlineData("fc00::1", "unique-local")]
    [InlineData("100.64.0.1", "CGNAT")]
    [InlineData("100.127.255.254", "CGNAT")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local")]
    [InlineData("2002:7f00:1::1", "loopback")]
    public void a_non_public_address_is_refused_and_says_what_it_is(string address, string kind)
    {
        var refusal = WebhookTargetPolicy.Refusal(IPAddress.Parse(address), AllowedTargets.None);
        Assert.NotNull(refusal);
        Assert.Contains(kind, refusal);
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::6810:84e5")]
    [InlineData("::ffff:8.8.8.8")]
    public void a_public_address_is_allowed(string address) =>
        Assert.Null(WebhookTargetPolicy.Refusal(IPAddress.Parse(address), AllowedTargets.None));

    [Fact]
    public void the_allow_list_lets_through_exactly_what_it_names()
    {
        var allowed = AllowedTargets.Parse("127.0.0.2, 10.20.0.0/16; hooks.internal [::1]");
        Assert.Null(WebhookTargetPolicy.Refusal(IPAddress.Parse("127.0.0.2"), allowed));
        Assert.Null(WebhookTargetPolicy.Refusal(IPAddress.Parse("::ffff:127.0.0.2"), allowed));
        Assert.Null(WebhookTargetPolicy.Refusal(IPAddress.Parse("10.20.5.6"), allowed));
        Assert.Null(WebhookTargetPolicy.Refusal(IPAddress.Parse("::1"), allowed));
        Assert.NotNull(WebhookTargetPolicy.Refusal(IPAddress.Parse("127.0.0.1"), allowed));
        Assert.NotNull(WebhookTargetPolicy.Refusal(IPAddress.Parse("10.21.0.1"), allowed));
        Assert.True(allowed.AllowsHost("HOOKS.internal"));
        Assert.False(allowed.AllowsHost("hooks.internal.evil.example"));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host!")]
    [InlineData("http://x")]
    public void a_malformed_allow_list_entry_stops_the_app(string entry) =>
        Assert.Throws<InvalidOperationException>(() => AllowedTargets.Parse(entry));

    [Theory]
    [InlineData("file:///etc/passwd", true)]
    [InlineData("ftp://example.com/", true)]
    [InlineData("gopher://example.com/", true)]
    [InlineData("https://user:pw@example.com/", true)]
    [InlineData("http://127.0.0.1:8080/", true)]
    [InlineData("http://[::1]/", true)]
    [InlineData("http://[::ffff:127.0.0.1]/", true)]
    [InlineData("http://169.254.169.254/latest/meta-data/", true)]
    [InlineData("http://10.0.0.5/", true)]
    [InlineData("http://2130706433/", true)]
    [InlineData("http://0x7f.1/", true)]
    [InlineData("not a url", false)]
    [InlineData("/relative/path", false)]
    [InlineData("", false)]
    [InlineData("https://example.com/#fragment", false)]
    public void a_url_the_registry_does_not_call_is_refused(string url, bool refused)
    {
        var (target, problem, isRefusal) = WebhookTargetPolicy.CheckUrl(url, AllowedTargets.None);
        Assert.Null(target);
        Assert.NotNull(problem);
        Assert.Equal(refused, isRefusal);
    }

    [Fact]
    public void an_overlong_url_is_refused_before_it_is_parsed()
    {
        var (target, problem, refused) = WebhookTargetPolicy.CheckUrl("https://example.com/" + new string('a', 5000), AllowedTargets.None);
        Assert.Null(target);
        Assert.Contains("at most", problem);
        Assert.False(refused);
    }

    [Theory]
    [InlineData("https://cd.example.com/hooks/registry?team=ml")]
    [InlineData("http://93.184.215.14:8080/hook")]
    public void a_public_http_target_passes(string url) => Assert.NotNull(WebhookTargetPolicy.CheckUrl(url, AllowedTargets.None).Target);
}
