using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Api.Webhooks;

namespace EventSourcedRegistry.Tests.Webhooks;

public class when_signing_and_enveloping_deliveries
{
    private const string Secret = "whsec_test-secret";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"specversion":"1.0"}""");

    [Fact]
    public void the_signature_is_the_hmac_of_the_timestamp_and_the_body_as_documented()
    {
        var header = WebhookSignature.Sign(Secret, 1_767_225_600, Body);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes("1767225600." + """{"specversion":"1.0"}""")));
        Assert.Equal($"t=1767225600,v1={expected}", header);
    }

    [Fact]
    public void a_signature_verifies_only_with_its_secret_body_and_within_the_replay_window()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_767_225_600);
        var header = WebhookSignature.Sign(Secret, now.ToUnixTimeSeconds(), Body);
        Assert.True(WebhookSignature.Verify(Secret, header, Body, now.AddMinutes(4)));
        Assert.False(WebhookSignature.Verify(Secret + "x", header, Body, now));
        Assert.False(WebhookSignature.Verify(Secret, header, Encoding.UTF8.GetBytes("""{"specversion":"1.1"}"""), now));
        Assert.False(WebhookSignature.Verify(Secret, header, Body, now.AddMinutes(6)));
        Assert.False(WebhookSignature.Verify(Secret, header.Replace("t=1767225600", "t=1767225601"), Body, now));
        Assert.False(WebhookSignature.Verify(Secret, "", Body, now));
        Assert.False(WebhookSignature.Verify(Secret, "v1=abc", Body, now));
    }

    [Fact]
    public void a_new_secret_holds_32_random_bytes()
    {
        var a = WebhookSignature.NewSecret();
        Assert.StartsWith(WebhookSignature.SecretPrefix, a);
        Assert.Equal(32, Convert.FromBase64String(a[WebhookSignature.SecretPrefix.Length..].Replace('-', '+').Replace('_', '/') + "=").Length);
        Assert.NotEqual(a, WebhookSignature.NewSecret());
    }

    [Fact]
    public void the_envelope_is_a_structured_cloud_event_with_the_delivery_id_of_subscription_and_sequence()
    {
        var subscription = Guid.Parse("0195f0a1-0000-7000-8000-000000000001");
        var model = Guid.Parse("0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850");
        using var payload = JsonDocument.Parse("""{"modelId":"0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850","version":3,"fromStage":"Staging","toStage":"Production","reason":null}""");
        var e = new DeliveredEvent("team-a", 42, "model_version_stage_transitioned", model, "churn", 3,
            DateTimeOffset.Parse("2026-03-03T14:00:00.123456Z"), "key:ci", "canary passed", "corr-1", payload.RootElement);
        var id = CloudEventEnvelope.DeliveryId(subscription, 42);
        Assert.Equal(id, CloudEventEnvelope.DeliveryId(subscription, 42));
        Assert.NotEqual(id, CloudEventEnvelope.DeliveryId(subscription, 43));

        using var json = JsonDocument.Parse(CloudEventEnvelope.Write(id, e));
        var root = json.RootElement;
        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal("01950f0a100007000800000000000001".Length, root.GetProperty("id").GetString()!.IndexOf('-'));
        Assert.Equal(id, root.GetProperty("id").GetString());
        Assert.Equal("/workspaces/team-a/models/0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850", root.GetProperty("source").GetString());
        Assert.Equal("io.eventsourcedregistry.model_version_stage_transitioned", root.GetProperty("type").GetString());
        Assert.Equal("churn", root.GetProperty("subject").GetString());
        Assert.Equal("2026-03-03T14:00:00.123456Z", root.GetProperty("time").GetString());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.Equal("42", root.GetProperty("sequence").GetString());
        Assert.Equal("team-a", root.GetProperty("workspace").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(3, data.GetProperty("version").GetInt32());
        Assert.Equal("key:ci", data.GetProperty("actor").GetString());
        Assert.Equal("canary passed", data.GetProperty("reason").GetString());
        Assert.Equal("corr-1", data.GetProperty("correlationId").GetString());
        Assert.Equal(model, data.GetProperty("modelId").GetGuid());
        Assert.Equal("Production", data.GetProperty("event").GetProperty("toStage").GetString());
        // Extension attribute names: lower-case letters and digits only (CloudEvents 1.0).
        Assert.All(root.EnumerateObject(), p => Assert.Matches("^[a-z0-9]+$", p.Name));
    }

    [Fact]
    public void backoff_grows_exponentially_up_to_its_cap_with_full_jitter()
    {
        var initial = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromHours(1);
        Assert.Equal(TimeSpan.FromSeconds(1), WebhookBackoff.Delay(1, initial, max, 1.0));
        Assert.Equal(TimeSpan.FromSeconds(8), WebhookBackoff.Delay(4, initial, max, 1.0));
        Assert.Equal(TimeSpan.FromSeconds(4), WebhookBackoff.Delay(4, initial, max, 0.5));
        Assert.Equal(max, WebhookBackoff.Delay(30, initial, max, 1.0));
        Assert.Equal(max, WebhookBackoff.Delay(int.MaxValue, initial, max, 1.0));
        Assert.Equal(TimeSpan.Zero, WebhookBackoff.Delay(5, initial, max, 0.0));
    }
}
