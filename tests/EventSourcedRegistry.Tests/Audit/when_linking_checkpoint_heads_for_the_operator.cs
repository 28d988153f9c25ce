using System.Security.Cryptography;
using System.Text;
using EventSourcedRegistry.Audit;

namespace EventSourcedRegistry.Tests.Audit;

public sealed class when_linking_checkpoint_heads_for_the_operator
{
    private static readonly DateTimeOffset SignedAt = new DateTimeOffset(2026, 3, 3, 14, 0, 0, TimeSpan.Zero).AddTicks(1234560);
    private const string Head = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    [Fact]
    public void a_links_record_is_the_jcs_of_workspace_sequence_head_and_time()
    {
        var record = Encoding.UTF8.GetString(OperatorChain.Record("team-a", 42, Head, SignedAt));

        Assert.Equal($"{{\"head\":\"{Head}\",\"sequence\":42,\"signedAt\":\"2026-03-03T14:00:00.123456Z\",\"workspace\":\"team-a\"}}", record);
    }

    [Fact]
    public void a_link_hashes_the_previous_links_32_bytes_then_its_record()
    {
        var first = OperatorChain.Next(ChainLink.Genesis, "team-a", 42, Head, SignedAt);
        var second = OperatorChain.Next(first, "~platform", 3, Head, SignedAt);

        Assert.Equal(SHA256.HashData([.. new byte[32], .. OperatorChain.Record("team-a", 42, Head, SignedAt)]), first);
        Assert.Equal(SHA256.HashData([.. first, .. OperatorChain.Record("~platform", 3, Head, SignedAt)]), second);
    }

    [Fact]
    public void the_same_head_signed_for_another_workspace_links_to_another_hash()
    {
        Assert.NotEqual(OperatorChain.Next(ChainLink.Genesis, "team-a", 42, Head, SignedAt),
            OperatorChain.Next(ChainLink.Genesis, "team-b", 42, Head, SignedAt));
    }
}
