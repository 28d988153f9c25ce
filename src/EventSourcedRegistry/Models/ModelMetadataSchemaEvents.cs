using System.Text.Json;

namespace EventSourcedRegistry.Models;

/// <summary>The model's metadata standard: a JSON Schema every new version's metadata must satisfy. Replaces any earlier one.</summary>
public sealed record ModelMetadataSchemaSet(Guid ModelId, JsonElement Schema);

/// <summary>The model no longer has a metadata standard of its own (the registry's, if any, still applies).</summary>
public sealed record ModelMetadataSchemaRemoved(Guid ModelId);
