using System.Text.Json.Serialization;

namespace EventSourcedRegistry.Settings;

/// <summary>A value of the effective policy and where it comes from (<see cref="PolicySources"/>).</summary>
public sealed record Sourced<T>([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] T Value, string Source);

/// <summary>The six counts of <c>Registry:RateLimits</c>, as the configuration sets them.</summary>
public sealed record RateLimitValues(int Reads, int ReadBurst, int Commands, int CommandBurst, int Uploads, int UploadBurst);

/// <summary>
/// What one caller may cost a workspace: its request rates and its artifact quota, each the workspace's own value where
/// its policy sets one and the configuration's otherwise. Unlike the lifecycle and approvals, resolving never fails: a
/// stored value was checked when it was set (<see cref="Check"/>) and means the same under any configuration, so a
/// redeploy cannot leave a workspace without limits or refuse its every request.
/// </summary>
public sealed record EffectiveLimits(
    Sourced<int> Reads, Sourced<int> ReadBurst,
    Sourced<int> Commands, Sourced<int> CommandBurst,
    Sourced<int> Uploads, Sourced<int> UploadBurst,
    Sourced<long?> ArtifactQuotaBytes, long Revision)
{
    /// <summary>Hostile-input cap on a count: a thousand times the default read rate, far above what one node serves.</summary>
    public const int MaxRequestsPerPeriod = 1_000_000;

    /// <summary>Hostile-input cap on a quota: 1 PiB, far above any store one registry fronts, and far from overflowing a sum.</summary>
    public const long MaxArtifactQuotaBytes = 1L << 50;

    public static EffectiveLimits Resolve(WorkspacePolicySet? policy, RateLimitValues configured, long? configuredQuota, long revision)
    {
        var rates = policy?.RateLimits;
        return new EffectiveLimits(
            Pick(rates?.Reads, configured.Reads), Pick(rates?.ReadBurst, configured.ReadBurst),
            Pick(rates?.Commands, configured.Commands), Pick(rates?.CommandBurst, configured.CommandBurst),
            Pick(rates?.Uploads, configured.Uploads), Pick(rates?.UploadBurst, configured.UploadBurst),
            policy?.ArtifactQuotaBytes is { } quota
                ? new Sourced<long?>(quota, PolicySources.Workspace)
                : new Sourced<long?>(configuredQuota, PolicySources.Configuration),
            revision);
    }

    /// <summary>
    /// Problems with the limits <paramref name="policy"/> sets, one per field: each count 1 to <see cref="MaxRequestsPerPeriod"/>,
    /// the quota 1 to <see cref="MaxArtifactQuotaBytes"/> bytes, and no burst below its rate once merged with the configuration
    /// (a bucket never holds more than its burst, so such a rate could never be reached).
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Check(WorkspacePolicySet policy, RateLimitValues configured)
    {
        var problems = new List<(string, string)>();
        if (policy.RateLimits is { } rates)
        {
            foreach (var (name, value) in new[]
                     {
                         ("reads", rates.Reads), ("readBurst", rates.ReadBurst), ("commands", rates.Commands),
                         ("commandBurst", rates.CommandBurst), ("uploads", rates.Uploads), ("uploadBurst", rates.UploadBurst),
                     })
            {
                if (value is < 1 or > MaxRequestsPerPeriod)
                    problems.Add(($"rateLimits.{name}", $"must be a whole number from 1 to {MaxRequestsPerPeriod} (leave it out to take the configuration's)."));
            }
            if (problems.Count == 0)
            {
                var merged = Resolve(policy, configured, null, 0);
                foreach (var (rate, burst, name) in new[]
                         {
                             (merged.Reads, merged.ReadBurst, "read"), (merged.Commands, merged.CommandBurst, "command"), (merged.Uploads, merged.UploadBurst, "upload"),
                         })
                {
                    if (burst.Value < rate.Value && (rate.Source == PolicySources.Workspace || burst.Source == PolicySources.Workspace))
                        problems.Add(($"rateLimits.{name}Burst",
                            $"is {burst.Value} (from the {burst.Source}), below the {name} rate of {rate.Value} (from the {rate.Source}): a caller could never reach that rate; set {name}Burst to at least {rate.Value}."));
                }
            }
        }
        if (policy.ArtifactQuotaBytes is < 1 or > MaxArtifactQuotaBytes)
            problems.Add(("artifactQuotaBytes", $"must be a whole number of bytes from 1 to {MaxArtifactQuotaBytes} (leave it out to take the configuration's)."));
        return problems;
    }

    private static Sourced<int> Pick(int? own, int configured) =>
        own is { } value ? new(value, PolicySources.Workspace) : new(configured, PolicySources.Configuration);
}
