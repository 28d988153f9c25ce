namespace EventSourcedRegistry.Client;

/// <summary>
/// A download's bytes do not hash to the digest they were asked for: they were damaged or replaced on the way, and
/// must not be used.
/// </summary>
public sealed class ArtifactDigestMismatchException(string expected, string actual, long bytes)
    : Exception($"The {bytes} bytes received hash to {actual}, not to {expected}: they were damaged or replaced on the way.")
{
    public string Expected { get; } = expected;
    public string Actual { get; } = actual;
    public long Bytes { get; } = bytes;
}
