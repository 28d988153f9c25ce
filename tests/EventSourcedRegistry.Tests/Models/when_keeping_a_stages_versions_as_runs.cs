using System.Text.Json;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.Models;

/// <summary>
/// A stage's versions in memory (<see cref="VersionSet"/>): runs of consecutive versions that answer as the ascending
/// list of every version would, whatever order versions come and go in.
/// </summary>
public sealed class when_keeping_a_stages_versions_as_runs
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void random_adds_and_removes_answer_as_a_sorted_list_would(int seed)
    {
        var rng = new Random(seed);
        var set = new VersionSet();
        var expected = new SortedSet<int>();
        for (var step = 0; step < 4_000; step++)
        {
            var version = rng.Next(1, 120);
            if (rng.Next(3) == 0) Assert.Equal(expected.Remove(version), set.Remove(version));
            else Assert.Equal(expected.Add(version), set.Add(version));

            Assert.Equal(expected.Count, set.Count);
            var probe = rng.Next(0, 122);
            Assert.Equal(expected.Contains(probe), set.Contains(probe));
            if (expected.Count > 0)
            {
                var index = rng.Next(expected.Count);
                Assert.Equal(expected.ElementAt(index), set[index]);
                Assert.Equal(expected.Max, set[^1]);
            }
            if (step % 97 == 0) Assert.Equal(expected, set);
        }
        Assert.Equal(expected, set);
        Assert.Equal(Runs(expected), set.Runs);
    }

    [Fact]
    public void the_versions_above_a_cursor_start_where_the_cursor_falls()
    {
        VersionSet set = [1, 2, 3, 7, 8, 12];

        Assert.Equal([1, 2, 3, 7, 8, 12], set.Above(0));
        Assert.Equal([3, 7, 8, 12], set.Above(2));
        Assert.Equal([7, 8, 12], set.Above(3));
        Assert.Equal([7, 8, 12], set.Above(5));
        Assert.Equal([12], set.Above(8));
        Assert.Empty(set.Above(12));
        Assert.Empty(set.Above(int.MaxValue));
        Assert.Equal([1, 2, 3, 7, 8, 12], set.Above(-4));
    }

    [Fact]
    public void consecutive_versions_are_one_run_whatever_order_they_came_in()
    {
        var ascending = new VersionSet();
        foreach (var v in Enumerable.Range(1, 10_000)) ascending.Add(v);
        VersionSet scattered = [5, 3, 1, 2, 4];

        Assert.Equal([(1, 10_000)], ascending.Runs);
        Assert.Equal(10_000, ascending.Count);
        Assert.Equal([(1, 5)], scattered.Runs);
        Assert.Equal(ascending.Count, ascending.Count(v => ascending.Contains(v)));
    }

    [Fact]
    public void removing_from_the_middle_of_a_run_splits_it_and_adding_back_joins_it()
    {
        VersionSet set = [1, 2, 3, 4, 5];

        Assert.True(set.Remove(3));
        Assert.Equal([(1, 2), (4, 5)], set.Runs);
        Assert.False(set.Remove(3));
        Assert.True(set.Add(3));
        Assert.Equal([(1, 5)], set.Runs);
        Assert.False(set.Add(3));
        Assert.Equal(5, set.Count);
    }

    [Fact]
    public void a_copy_is_its_own()
    {
        VersionSet set = [1, 2, 3];
        var copy = set.Copy();

        copy.Add(4);
        copy.Remove(1);

        Assert.Equal([1, 2, 3], set);
        Assert.Equal([2, 3, 4], copy);
        Assert.NotEqual(set, copy);
        Assert.Equal(set, set.Copy());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void a_version_below_1_is_refused(int version)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VersionSet().Add(version));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VersionSet().AddRun(version, 3));
    }

    [Fact]
    public void a_run_must_come_above_what_is_held()
    {
        var set = new VersionSet();
        set.AddRun(5, 9);
        set.AddRun(10, 12); // right after: one run

        Assert.Equal([(5, 12)], set.Runs);
        Assert.Throws<ArgumentException>(() => set.AddRun(12, 14));
        Assert.Throws<ArgumentException>(() => set.AddRun(1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.AddRun(20, 19));
        Assert.Equal(8, set.Count);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void an_index_outside_the_set_is_refused(int index)
    {
        VersionSet set = [4, 9, 10];
        Assert.Throws<ArgumentOutOfRangeException>(() => set[index]);
    }

    [Fact]
    public void stored_runs_out_of_order_or_overlapping_are_refused_and_plain_numbers_are_read_in_any_order()
    {
        static VersionSet Read(string json)
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
            reader.Read();
            var set = new VersionSet();
            VersionRuns.Read(ref reader, set);
            return set;
        }

        Assert.Equal([1, 2, 3, 7], Read("[[1,3],7]"));
        Assert.Throws<JsonException>(() => Read("[7,[1,3]]"));
        Assert.Equal([1, 2, 3, 7], Read("[3,1,2,7]"));
        Assert.Throws<JsonException>(() => Read("[[5,8],[1,3]]"));
        Assert.Throws<JsonException>(() => Read("[[1,5],[4,8]]"));
        Assert.Throws<JsonException>(() => Read("[0]"));
        Assert.Throws<JsonException>(() => Read("[99999999999]"));
    }

    [Fact]
    public void the_wire_lists_every_version()
    {
        VersionSet set = [1, 2, 3, 7];

        Assert.Equal("[1,2,3,7]", JsonSerializer.Serialize(set));
        Assert.Equal(set, JsonSerializer.Deserialize<VersionSet>("[1,2,3,7]"));
    }

    private static List<(int, int)> Runs(IEnumerable<int> ascending)
    {
        var runs = new List<(int, int)>();
        foreach (var v in ascending)
            if (runs.Count > 0 && runs[^1].Item2 == v - 1) runs[^1] = (runs[^1].Item1, v);
            else runs.Add((v, v));
        return runs;
    }
}
