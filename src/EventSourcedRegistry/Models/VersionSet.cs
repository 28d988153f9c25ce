using System.Collections;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedRegistry.Models;

/// <summary>
/// A stage's versions: ascending, distinct version numbers, held as maximal runs of consecutive numbers. A model's
/// history grows by one version per registration, and most of its versions sit in one or two stages, so a stage of
/// thousands of versions is a few runs. Every command reads its model's view, folds into a copy of it and writes it
/// back (<see cref="VersionRuns.StoreModelViewStagesAsRuns"/>), and the registry-state rows are written from it: with a
/// number per version each of those steps cost time and memory in proportion to the model's history (at 12,000 versions
/// a registration cost the API twice the CPU of one on a new model). Runs make them cost the same whatever the history.
/// It lists as every version (enumeration, <see cref="Count"/>, and the wire's JSON: an array of every version).
/// </summary>
[JsonConverter(typeof(ListedConverter))]
[CollectionBuilder(typeof(VersionSet), nameof(Create))]
public sealed class VersionSet : IReadOnlyList<int>, IEquatable<VersionSet>
{
    // Ascending, disjoint and never adjacent (a run ends at least two below the next one's first), so each set of
    // versions has exactly one spelling and Runs is the stored form whatever order the versions were added in.
    private readonly List<(int First, int Last)> _runs;

    public VersionSet() => _runs = [];

    private VersionSet(List<(int First, int Last)> runs, int count)
    {
        _runs = runs;
        Count = count;
    }

    public static VersionSet Create(ReadOnlySpan<int> versions)
    {
        var set = new VersionSet();
        foreach (var version in versions) set.Add(version);
        return set;
    }

    /// <summary>How many versions.</summary>
    public int Count { get; private set; }

    /// <summary>The runs, ascending: <c>(v, v)</c> for a lone version.</summary>
    public IReadOnlyList<(int First, int Last)> Runs => _runs;

    /// <summary>The <paramref name="index"/>-th version in ascending order; the last one without a walk.</summary>
    public int this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            if (index == Count - 1) return _runs[^1].Last;
            foreach (var (first, last) in _runs)
            {
                var length = last - first + 1;
                if (index < length) return first + index;
                index -= length;
            }
            throw new InvalidOperationException("A version set's count disagrees with its runs.");
        }
    }

    public bool Contains(int version) => Find(version) >= 0;

    /// <summary>Adds <paramref name="version"/> (at least 1); false when it is there already.</summary>
    public bool Add(int version)
    {
        if (version < 1) throw new ArgumentOutOfRangeException(nameof(version), "Versions are numbered from 1.");
        var at = Find(version);
        if (at >= 0) return false;
        var next = ~at; // the first run above the version
        var joinsBelow = next > 0 && _runs[next - 1].Last == version - 1;
        var joinsAbove = next < _runs.Count && _runs[next].First == version + 1;
        if (joinsBelow && joinsAbove)
        {
            _runs[next - 1] = (_runs[next - 1].First, _runs[next].Last);
            _runs.RemoveAt(next);
        }
        else if (joinsBelow) _runs[next - 1] = (_runs[next - 1].First, version);
        else if (joinsAbove) _runs[next] = (version, _runs[next].Last);
        else _runs.Insert(next, (version, version));
        Count++;
        return true;
    }

    /// <summary>Removes <paramref name="version"/>; false when it is not there.</summary>
    public bool Remove(int version)
    {
        var at = Find(version);
        if (at < 0) return false;
        var (first, last) = _runs[at];
        if (first == last) _runs.RemoveAt(at);
        else if (version == first) _runs[at] = (first + 1, last);
        else if (version == last) _runs[at] = (first, last - 1);
        else
        {
            _runs[at] = (first, version - 1);
            _runs.Insert(at + 1, (version + 1, last));
        }
        Count--;
        return true;
    }

    /// <summary>
    /// Appends the run <c>[first, last]</c> above every version held (as a reader of the stored form does); a run that
    /// starts right after the last one extends it. Refuses a run that is empty, below 1 or not above what is held.
    /// </summary>
    public void AddRun(int first, int last)
    {
        if (first < 1 || last < first) throw new ArgumentOutOfRangeException(nameof(first), "A run is [first, last] with 1 <= first <= last.");
        if (_runs.Count > 0 && first <= _runs[^1].Last)
            throw new ArgumentException("Runs are added in ascending order, each above the versions held.", nameof(first));
        if (_runs.Count > 0 && first == _runs[^1].Last + 1) _runs[^1] = (_runs[^1].First, last);
        else _runs.Add((first, last));
        Count += last - first + 1;
    }

    public VersionSet Copy() => new([.. _runs], Count);

    public IEnumerator<int> GetEnumerator()
    {
        foreach (var (first, last) in _runs)
            for (var version = first; ; version++)
            {
                yield return version;
                if (version == last) break; // not version <= last: a run may end at int.MaxValue
            }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The versions above <paramref name="after"/>, ascending, starting at the run that holds the next one (a page's cursor).</summary>
    public IEnumerable<int> Above(int after)
    {
        if (after == int.MaxValue) yield break;
        var at = Find(after + 1);
        for (var i = at >= 0 ? at : ~at; i < _runs.Count; i++)
        {
            var (first, last) = _runs[i];
            for (var version = Math.Max(first, after + 1); ; version++)
            {
                yield return version;
                if (version == last) break;
            }
        }
    }

    /// <summary>The same versions (a set has one spelling as runs, so its runs are compared).</summary>
    public bool Equals(VersionSet? other) => other is not null && Count == other.Count && _runs.SequenceEqual(other._runs);

    public override bool Equals(object? obj) => obj is VersionSet other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Count, _runs.Count == 0 ? 0 : _runs[0].First, _runs.Count == 0 ? 0 : _runs[^1].Last);

    /// <summary>The index of the run holding <paramref name="version"/>, or the complement of the first run above it.</summary>
    private int Find(int version)
    {
        int low = 0, high = _runs.Count - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) >> 1);
            var (first, last) = _runs[middle];
            if (version < first) high = middle - 1;
            else if (version > last) low = middle + 1;
            else return middle;
        }
        return ~low;
    }

    /// <summary>
    /// The wire's and the snapshots' form: an array of every version, ascending. Reads that form, and the stored form's
    /// runs too (<see cref="VersionRuns.Read(ref Utf8JsonReader, VersionSet)"/>).
    /// </summary>
    public sealed class ListedConverter : JsonConverter<VersionSet>
    {
        public override VersionSet Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var set = new VersionSet();
            VersionRuns.Read(ref reader, set);
            return set;
        }

        public override void Write(Utf8JsonWriter writer, VersionSet value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var version in value) writer.WriteNumberValue(version);
            writer.WriteEndArray();
        }
    }
}
