using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Tests.Audit;

public class when_chaining_events
{
    private static readonly StoredEvent Registered = new(
        Sequence: 7,
        Id: Guid.Parse("5f0c8a52-0b37-4a61-9d0e-0c4e8b4b2a11"),
        StreamId: Guid.Parse("0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850"),
        Version: 1,
        Type: "model_registered",
        DataJson: """{"name": "churn", "tags": {"team": "growth"}, "modelId": "0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850", "description": null}""",
        Timestamp: new DateTime(2026, 3, 3, 14, 0, 0, DateTimeKind.Utc).AddTicks(1234560),
        Actor: "local:alice",
        CorrelationId: "corr-1",
        CausationId: "0HN7:00000001",
        HeadersJson: """{"reason": "first model"}""");

    [Fact]
    public void a_link_record_is_the_canonical_json_of_the_stored_event_and_its_metadata()
    {
        Assert.Equal(
            """
            {"data":{"description":null,"modelId":"0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850","name":"churn","tags":{"team":"growth"}},"id":"5f0c8a52-0b37-4a61-9d0e-0c4e8b4b2a11","metadata":{"actor":"local:alice","causationId":"0HN7:00000001","correlationId":"corr-1","headers":{"reason":"first model"}},"sequence":7,"streamId":"0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850","timestamp":"2026-03-03T14:00:00.123456Z","type":"model_registered","version":1}
            """,
            Encoding.UTF8.GetString(ChainLink.Record(Registered)));
    }

    [Fact]
    public void missing_metadata_is_written_as_null()
    {
        var bare = Registered with { Actor = null, CorrelationId = null, CausationId = null, HeadersJson = null };

        Assert.Contains("""
            "metadata":{"actor":null,"causationId":null,"correlationId":null,"headers":null}
            """, Encoding.UTF8.GetString(ChainLink.Record(bare)));
    }

    [Fact]
    public void each_hash_is_sha256_over_the_previous_hash_then_the_record()
    {
        var first = ChainLink.Next(ChainLink.Genesis, Registered);
        var second = ChainLink.Next(first, Registered with { Sequence = 9, Version = 2 });

        Assert.Equal(SHA256.HashData([.. new byte[32], .. ChainLink.Record(Registered)]), first);
        Assert.Equal(SHA256.HashData([.. first, .. ChainLink.Record(Registered with { Sequence = 9, Version = 2 })]), second);
    }

    [Fact]
    public void the_jsonb_spelling_does_not_matter_but_every_value_does()
    {
        var respelled = Registered with { DataJson = """{"modelId":"0b9d6f3e-5c1a-4e8f-a2d7-91c4b3e6f850","description":null,"tags":{"team":"growth"},"name":"churn"}""" };
        var hash = ChainLink.Next(ChainLink.Genesis, Registered);

        Assert.Equal(hash, ChainLink.Next(ChainLink.Genesis, respelled));
        Assert.NotEqual(hash, ChainLink.Next(ChainLink.Genesis, Registered with { DataJson = Registered.DataJson.Replace("growth", "growtH") }));
        Assert.NotEqual(hash, ChainLink.Next(ChainLink.Genesis, Registered with { Actor = "local:mallory" }));
        Assert.NotEqual(hash, ChainLink.Next(ChainLink.Genesis, Registered with { Timestamp = Registered.Timestamp.AddTicks(10) }));
        Assert.NotEqual(hash, ChainLink.Next(ChainLink.Genesis, Registered with { HeadersJson = """{"reason":"other"}""" }));
        Assert.NotEqual(hash, ChainLink.Next(new byte[32].Select(_ => (byte)1).ToArray(), Registered));
    }
}
