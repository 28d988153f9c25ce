using EventSourcedRegistry.Api.WebConsole.Pages;
using Wire = EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.ConsoleTests;

/// <summary>The chain page's verdict, from verify's answers that a running store cannot easily be made to give.</summary>
public sealed class when_wording_the_chain_verdict
{
    private static Wire.ChainVerification Answer(bool verified, string? state, long? broken = null, long? unchained = null) =>
        new(verified, Events: 5, Head: new string('a', 64), HeadSequence: 40, FirstBrokenSequence: broken, Problem: null, Checkpoints: 1,
            HighWaterMark: 50, State: state, Mode: "incremental", FromSequence: 35, FirstUnchainedSequence: unchained, StoreHeadSequence: 50);

    [Fact]
    public void only_a_verified_state_with_verified_true_is_worded_verified_and_with_its_head_sequence()
    {
        Assert.Equal("Verified through sequence 40", AuditChainModel.Verdict(Answer(true, "verified")));
        Assert.Contains("links after sequence 35 recomputed (5 events)", AuditChainModel.Coverage(Answer(true, "verified")));
        Assert.Contains("not recomputed by this check", AuditChainModel.Coverage(Answer(true, "verified")));
    }

    [Fact]
    public void an_incomplete_broken_contradictory_or_unknown_answer_is_never_worded_verified()
    {
        var incomplete = AuditChainModel.Verdict(Answer(false, "incomplete", unchained: 41));
        Assert.Equal("Incomplete: the chain reaches sequence 40, the store holds events through 50; the first event not chained is 41", incomplete);
        Assert.Equal("Broken at sequence 12", AuditChainModel.Verdict(Answer(false, "broken", broken: 12)));
        // verified: true with another state, or a state this console does not know, is not a verdict it can vouch for.
        foreach (var answer in new[] { Answer(true, "incomplete", unchained: 41), Answer(true, null), Answer(true, "partial"), Answer(false, "verified") })
            Assert.DoesNotContain("Verified", AuditChainModel.Verdict(answer));
    }

    [Fact]
    public void a_quote_in_a_shell_word_cannot_end_it()
    {
        Assert.Equal("'a'\\''b; rm -rf x'", AuditChainModel.Quote("a'b; rm -rf x"));
    }
}
