using System.Text;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>Reads the audit log's CSV export as a spreadsheet would, to test what an auditor's program sees.</summary>
public static class Csv
{
    /// <summary>RFC 4180: fields separated by commas, records by CRLF; a quoted field may hold both and doubles its quotes.</summary>
    public static List<List<string>> Rows(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString()); field.Clear();
                rows.Add(row); row = [];
                i++;
            }
            else field.Append(c);
        }
        Assert.Equal(0, field.Length);
        Assert.Empty(row);
        return rows;
    }
}
