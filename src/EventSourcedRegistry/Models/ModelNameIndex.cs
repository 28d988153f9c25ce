namespace EventSourcedRegistry.Models;

/// <summary>
/// Claims a model name, case-insensitively. Written in the same transaction as the events that start or
/// rename a model; its primary key makes the second of two concurrent claims fail.
/// </summary>
public sealed class ModelNameIndex
{
    /// <summary>The normalized (lower-case) name.</summary>
    public string Id { get; set; } = "";
    public Guid ModelId { get; set; }
}
