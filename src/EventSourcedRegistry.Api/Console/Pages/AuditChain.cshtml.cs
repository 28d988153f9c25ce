using System.Text;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;

namespace EventSourcedRegistry.Api.WebConsole.Pages;

/// <summary>
/// The hash chain's status as <c>GET /api/v1/audit/verify</c> answers it (its verdict, its coverage, the first broken
/// or unchained sequence), the signed checkpoints (<c>GET /api/v1/audit/checkpoints</c>), the public key, and the
/// openssl commands that verify a checkpoint offline, without the registry.
/// </summary>
[Authorize(Policy = Policies.Authenticated)]
public sealed class AuditChainModel(ConsoleReads reads) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Full { get; set; }
    /// <summary>A checkpoint kept outside the registry, compared with today's chain (verify's sequence and head).</summary>
    [BindProperty(SupportsGet = true)] public string? Sequence { get; set; }
    [BindProperty(SupportsGet = true)] public string? Head { get; set; }
    /// <summary>The checkpoint whose openssl commands are shown (its sequence); the newest by default.</summary>
    [BindProperty(SupportsGet = true)] public long? Checkpoint { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Wire.ChainVerification? Verification { get; private set; }
    public Wire.CheckpointPage? Checkpoints { get; private set; }
    public Wire.CheckpointInfo? Selected { get; private set; }
    public (string Pem, string KeyId)? PublicKey { get; private set; }
    public string? Problem { get; private set; }
    public bool Refused { get; private set; }

    public async Task OnGet()
    {
        var verify = await reads.VerifyChain(HttpContext, new Dictionary<string, StringValues> { ["full"] = Full, ["sequence"] = Sequence, ["head"] = Head });
        if (verify.Status == StatusCodes.Status403Forbidden)
        {
            // The audit policy refused the caller: its answer, and nothing of the chain.
            (Refused, Problem, Response.StatusCode) = (true, ConsoleProblem.Describe(verify.Title, verify.Detail), verify.Status);
            return;
        }
        Verification = verify.Value;
        if (verify.Value is null) Problem = ConsoleProblem.Describe(verify.Title, verify.Detail);
        var checkpoints = await reads.Checkpoints(HttpContext, new Dictionary<string, StringValues> { ["cursor"] = Cursor, ["limit"] = "50" });
        Checkpoints = checkpoints.Value;
        if (checkpoints.Value is null) Problem ??= ConsoleProblem.Describe(checkpoints.Title, checkpoints.Detail);
        Selected = Checkpoints?.Items.FirstOrDefault(c => Checkpoint is null || c.Sequence == Checkpoint);
        PublicKey = await reads.PublicKey(HttpContext);
    }

    /// <summary>
    /// The verdict in words, exactly as strong as the answer: "verified" only when the endpoint says both
    /// <c>verified: true</c> and <c>state: verified</c>; an incomplete or broken chain, or a state this page does not know,
    /// is never worded as verified.
    /// </summary>
    public static string Verdict(Wire.ChainVerification v) => (v.Verified, v.State) switch
    {
        (true, "verified") => $"Verified through sequence {v.HeadSequence}",
        (_, "broken") => v.FirstBrokenSequence is { } at ? $"Broken at sequence {at}" : "Broken",
        (_, "incomplete") => $"Incomplete: the chain reaches sequence {v.HeadSequence}, the store holds events through {v.StoreHeadSequence}"
                             + (v.FirstUnchainedSequence is { } first ? $"; the first event not chained is {first}" : ""),
        _ => $"Not verified (state: {v.State ?? "none"})",
    };

    /// <summary>What the check covered: the links it recomputed, and what it took on trust.</summary>
    public static string Coverage(Wire.ChainVerification v) => v.Mode == "full"
        ? $"A full check: every link from the first recomputed ({v.Events} events), {v.Checkpoints} signed checkpoint(s) compared."
        : $"An incremental check: the links after sequence {v.FromSequence} recomputed ({v.Events} events), {v.Checkpoints} signed checkpoint(s) compared; " +
          $"events at or before sequence {v.FromSequence} are vouched for by the signed checkpoint there, not recomputed by this check.";

    /// <summary>A word for the shell in single quotes: the checkpoint's text is ASCII without quotes, but nothing here depends on it.</summary>
    public static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    /// <summary>
    /// The commands that verify <paramref name="checkpoint"/> offline with openssl: the public key, the signed text and the
    /// signature written to files, then openssl's verdict ("Verified OK") and the key id recomputed from the key.
    /// </summary>
    public static string OpensslCommands(Wire.CheckpointInfo checkpoint, string publicKeyPem) => new StringBuilder()
        .Append("cat > pub.pem <<'EOF'\n").Append(publicKeyPem.TrimEnd('\n')).Append("\nEOF\n")
        .Append("printf '%s' ").Append(Quote(checkpoint.Message)).Append(" > msg.bin\n")
        .Append("printf '%s' ").Append(Quote(checkpoint.Signature)).Append(" | openssl base64 -d -A > sig.bin\n")
        .Append("openssl dgst -sha256 -verify pub.pem -signature sig.bin msg.bin\n")
        .Append("openssl pkey -pubin -in pub.pem -outform DER | openssl dgst -sha256 -r | cut -c1-16\n")
        .ToString();

    public string SelectLink(long sequence) => QueryString.Create(new Dictionary<string, string?>
    {
        ["full"] = Full, ["cursor"] = Cursor, ["checkpoint"] = sequence.ToString(),
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();

    public string CompareLink(Wire.CheckpointInfo c) => QueryString.Create(new Dictionary<string, string?>
    {
        ["sequence"] = c.Sequence.ToString(), ["head"] = c.Head, ["full"] = Full,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();

    public string NextCheckpointsLink() => QueryString.Create(new Dictionary<string, string?>
    {
        ["full"] = Full, ["cursor"] = Checkpoints?.NextCursor,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();

    public string Workspace => HttpContext.Workspace().Slug;
    public string AuditLink => ConsoleConfiguration.PathOf(HttpContext.Workspace(), "audit");
    public bool FullCheck => string.Equals(Full, "true", StringComparison.OrdinalIgnoreCase);
}
