using System.Buffers;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace EventSourcedRegistry.Api.Infrastructure;

/// <summary>
/// Turns a document's stored JSON (PostgreSQL's jsonb text, as Marten's <c>StreamJson</c> family reads it) into the
/// exact bytes the API's serializer writes for the same document, without building the object.
/// <para>
/// Why not send the stored text as is: jsonb keeps the members but not their spelling — keys sorted by length, a
/// space after every <c>:</c> and <c>,</c>, nulls kept, strings escaped its own way — while the wire (<see cref="Json.Options"/>)
/// has the type's member order, no spaces, nulls left out and every string escaped by its encoder. This pass reorders
/// the members of every object by the serializer's own contract (<see cref="JsonTypeInfo.Properties"/>), keeps
/// dictionaries and free JSON in their stored order (as a read-back object would), and rewrites each string and number
/// through a writer with the wire's options: one read of the bytes and one write, linear in the document's size, no
/// object per member.
/// </para>
/// <para>
/// When the stored JSON is not what the contract expects (a member the type has is missing and not one the serializer
/// leaves out by default, a token of another kind), it answers false and the caller takes the slow path (deserialize and
/// serialize): a document written by older code reads the same as before, never differently.
/// </para>
/// </summary>
public static class StoredJson
{
    /// <summary>Writes the wire form of <paramref name="stored"/> (a <paramref name="type"/>) to <paramref name="output"/>; false when it cannot (nothing usable is written then).</summary>
    public static bool TryWriteWire(ReadOnlySpan<byte> stored, Type type, JsonSerializerOptions options, IBufferWriter<byte> output)
    {
        var info = options.GetTypeInfo(type);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions
        {
            Encoder = options.Encoder,
            Indented = options.WriteIndented,
            MaxDepth = options.MaxDepth,
            SkipValidation = false,
        });
        try
        {
            var reader = new Utf8JsonReader(stored, new JsonReaderOptions { MaxDepth = options.MaxDepth });
            if (!reader.Read() || !WriteValue(stored, ref reader, info, options, writer)) return false;
            writer.Flush();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // The writer refused a sequence (its validation): the stored JSON did not fit the contract.
            return false;
        }
    }

    /// <summary>The value of a top-level number member of the stored JSON (e.g. the revision served as the ETag); null when absent or not a whole number.</summary>
    public static long? TopLevelInt64(ReadOnlySpan<byte> stored, string name)
    {
        var reader = new Utf8JsonReader(stored, new JsonReaderOptions { MaxDepth = Json.Options.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match) return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : null;
            reader.Skip();
        }
        return null;
    }

    // The reader stands on the value's first token; on return it stands on its last.
    private static bool WriteValue(ReadOnlySpan<byte> stored, ref Utf8JsonReader reader, JsonTypeInfo? info, JsonSerializerOptions options, Utf8JsonWriter writer)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            writer.WriteNullValue();
            return true;
        }
        switch (info?.Kind)
        {
            case JsonTypeInfoKind.Object when info.Properties.Count > 0 && info.Type != typeof(object):
                return WriteObject(stored, ref reader, info, options, writer);
            case JsonTypeInfoKind.Dictionary when info.KeyType == typeof(string):
                if (reader.TokenType != JsonTokenType.StartObject) return false;
                var values = Element(info.ElementType, options);
                writer.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    WriteName(ref reader, writer);
                    reader.Read();
                    if (!WriteValue(stored, ref reader, values, options, writer)) return false;
                }
                writer.WriteEndObject();
                return true;
            case JsonTypeInfoKind.Enumerable:
                if (reader.TokenType != JsonTokenType.StartArray) return false;
                var elements = Element(info.ElementType, options);
                writer.WriteStartArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    if (!WriteValue(stored, ref reader, elements, options, writer)) return false;
                writer.WriteEndArray();
                return true;
            case null:
                CopyAsIs(ref reader, writer);
                return true;
            case JsonTypeInfoKind.None:
                return WriteScalar(ref reader, Nullable.GetUnderlyingType(info.Type) ?? info.Type, writer);
            default:
                // A contract this pass does not follow (a dictionary keyed otherwise, polymorphism): the slow path.
                return false;
        }
    }

    private static bool WriteObject(ReadOnlySpan<byte> stored, ref Utf8JsonReader reader, JsonTypeInfo info, JsonSerializerOptions options, Utf8JsonWriter writer)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return false;
        var properties = info.Properties;
        // Where each member's value starts in the stored text, by the contract's index of the member; members the type
        // does not have are skipped, as deserializing skips them.
        Span<int> starts = properties.Count <= 64 ? stackalloc int[properties.Count] : new int[properties.Count];
        starts.Fill(-1);
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var index = IndexOf(ref reader, properties);
            reader.Read();
            if (index >= 0) starts[index] = checked((int)reader.TokenStartIndex);
            reader.Skip();
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != depth) return false;

        writer.WriteStartObject();
        for (var i = 0; i < properties.Count; i++)
        {
            var property = properties[i];
            var ignore = IgnoreConditionOf(property, options);
            if (ignore is JsonIgnoreCondition.Always) continue;
            if (starts[i] < 0)
            {
                // Absent from the stored JSON: the serializer left it out (a null or default it does not write), and a
                // fresh object holds that too, so reading it back would leave it out again.
                if (ignore is JsonIgnoreCondition.WhenWritingDefault or JsonIgnoreCondition.WhenWritingNull && AbsentIsDefault(info)[i]) continue;
                return false;
            }
            var value = new Utf8JsonReader(stored[starts[i]..], new JsonReaderOptions { MaxDepth = options.MaxDepth });
            value.Read();
            if (value.TokenType == JsonTokenType.Null && ignore is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault) continue;
            if (ignore is JsonIgnoreCondition.WhenWritingDefault && IsDefaultScalar(ref value)) continue;
            writer.WritePropertyName(property.Name);
            if (!WriteValue(stored[starts[i]..], ref value, Element(property.PropertyType, options), options, writer)) return false;
        }
        writer.WriteEndObject();
        return true;
    }

    /// <summary>
    /// A scalar as the serializer's own converter writes it: strings and enum names through the encoder; times, ids and
    /// numbers parsed and written back (their converters write them unescaped, in their own format); free JSON
    /// (<see cref="JsonElement"/>) token by token, as it writes itself. Any other type: false (the slow path).
    /// </summary>
    private static bool WriteScalar(ref Utf8JsonReader reader, Type type, Utf8JsonWriter writer)
    {
        if (type == typeof(JsonElement) || type == typeof(string) || type.IsEnum || type == typeof(bool))
        {
            if (type != typeof(JsonElement) && reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) return false;
            CopyAsIs(ref reader, writer);
            return true;
        }
        if (reader.TokenType == JsonTokenType.String)
        {
            if (type == typeof(DateTimeOffset)) writer.WriteStringValue(reader.GetDateTimeOffset());
            else if (type == typeof(DateTime)) writer.WriteStringValue(reader.GetDateTime());
            else if (type == typeof(Guid)) writer.WriteStringValue(reader.GetGuid());
            else return false;
            return true;
        }
        if (reader.TokenType != JsonTokenType.Number) return false;
        if (type == typeof(int)) writer.WriteNumberValue(reader.GetInt32());
        else if (type == typeof(long)) writer.WriteNumberValue(reader.GetInt64());
        else if (type == typeof(double)) writer.WriteNumberValue(reader.GetDouble());
        else if (type == typeof(decimal)) writer.WriteNumberValue(reader.GetDecimal());
        else return false;
        return true;
    }

    private static int IndexOf(ref Utf8JsonReader reader, IList<JsonPropertyInfo> properties)
    {
        for (var i = 0; i < properties.Count; i++)
            if (reader.ValueTextEquals(properties[i].Name)) return i;
        return -1;
    }

    private static JsonIgnoreCondition? IgnoreConditionOf(JsonPropertyInfo property, JsonSerializerOptions options) =>
        property.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: true) is [JsonIgnoreAttribute attribute, ..]
            ? attribute.Condition
            : property.PropertyType.IsValueType && Nullable.GetUnderlyingType(property.PropertyType) is null
                ? options.DefaultIgnoreCondition == JsonIgnoreCondition.WhenWritingDefault ? JsonIgnoreCondition.WhenWritingDefault : null
                : options.DefaultIgnoreCondition is JsonIgnoreCondition.Never ? null : options.DefaultIgnoreCondition;

    private static bool IsDefaultScalar(ref Utf8JsonReader value) => value.TokenType switch
    {
        JsonTokenType.False => true,
        JsonTokenType.Number => value.TryGetDecimal(out var number) && number == 0m,
        _ => false,
    };

    private static JsonTypeInfo? Element(Type? type, JsonSerializerOptions options) =>
        type is null || type == typeof(object) ? null : options.GetTypeInfo(type);

    private static void WriteName(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        if (!reader.ValueIsEscaped) writer.WritePropertyName(reader.ValueSpan);
        else writer.WritePropertyName(reader.GetString()!);
    }

    private static void CopyAsIs(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        var depth = reader.CurrentDepth;
        while (true)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                case JsonTokenType.PropertyName: WriteName(ref reader, writer); break;
                case JsonTokenType.String:
                    if (!reader.ValueIsEscaped) writer.WriteStringValue(reader.ValueSpan);
                    else writer.WriteStringValue(reader.GetString());
                    break;
                case JsonTokenType.Number: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: writer.WriteBooleanValue(true); break;
                case JsonTokenType.False: writer.WriteBooleanValue(false); break;
                case JsonTokenType.Null: writer.WriteNullValue(); break;
            }
            // Done at the value's own depth: a scalar, or the end of the object or array it opened.
            if (reader.CurrentDepth == depth && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return;
            reader.Read();
        }
    }

    /// <summary>
    /// Per type, which members a fresh instance holds null or the default in: only those may be missing from stored JSON
    /// and still read back as left out (a member initialised to something else reads back as that, so it takes the slow path).
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonTypeInfo, bool[]> DefaultWhenAbsent = new();

    private static bool[] AbsentIsDefault(JsonTypeInfo info) => DefaultWhenAbsent.GetValue(info, static info =>
    {
        var fresh = info.CreateObject?.Invoke();
        return info.Properties.Select(p => fresh is not null && p.Get is not null &&
            (p.Get(fresh) is not { } value || p.PropertyType.IsValueType && value.Equals(Activator.CreateInstance(p.PropertyType)))).ToArray();
    });
}
