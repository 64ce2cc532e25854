using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ClusterDR.HelpBuilder
{
    /// <summary>
    /// Markdown blocks as plain text: emphasis and code marks dropped, lists as "- " lines, code as is,
    /// tables as aligned columns. MAML paragraphs take it unwrapped (Get-Help wraps them to the console);
    /// the about topic takes it wrapped, because Get-Help shows a .help.txt exactly as written.
    /// </summary>
    public sealed class PlainText
    {
        private readonly bool _urls;

        /// <param name="urls">Follow a link's text with its address: a text file has nothing to click.</param>
        public PlainText(bool urls) => _urls = urls;

        /// <summary>The block's lines, wrapped at <paramref name="width"/> columns when one is given.</summary>
        public List<string> Lines(Block block, int? width = null)
        {
            switch (block)
            {
                case ParagraphBlock p: return Wrap(Inline(p.Inline), width);
                case HeadingBlock h: return new List<string> { Inline(h.Inline) };
                case CodeBlock c: return c.Lines.Lines.Take(c.Lines.Count).Select(l => l.ToString()).ToList();
                case ListBlock list: return List(list, width);
                case Table table: return TableLines(table);
                case ContainerBlock container: return Blocks(container, width);
                default: return new List<string>();
            }
        }

        /// <summary>The blocks of a container, a blank line between them.</summary>
        public List<string> Blocks(IEnumerable<Block> blocks, int? width)
        {
            var lines = new List<string>();
            foreach (var b in blocks)
            {
                if (lines.Count > 0) lines.Add("");
                lines.AddRange(Lines(b, width));
            }
            return lines;
        }

        public string Inline(ContainerInline? inline)
        {
            var sb = new StringBuilder();
            if (inline != null) AppendChildren(sb, inline);
            return sb.ToString().Trim();
        }

        private void AppendChildren(StringBuilder sb, ContainerInline container)
        {
            foreach (var child in container) Append(sb, child);
        }

        private void Append(StringBuilder sb, Inline inline)
        {
            switch (inline)
            {
                case LiteralInline l: sb.Append(l.Content.ToString()); break;
                case CodeInline c: sb.Append(c.Content); break;
                case LineBreakInline br: sb.Append(br.IsHard ? '\n' : ' '); break;
                case AutolinkInline a: sb.Append(a.Url); break;
                case HtmlEntityInline e: sb.Append(e.Transcoded.ToString()); break;
                case HtmlInline h: sb.Append(h.Tag); break;
                case LinkInline link:
                    string text = Inline(link);
                    sb.Append(text);
                    if (_urls && Uri.TryCreate(link.Url, UriKind.Absolute, out _) && link.Url != text) sb.Append(" (").Append(link.Url).Append(')');
                    break;
                case ContainerInline container: AppendChildren(sb, container); break;
            }
        }

        private List<string> List(ListBlock list, int? width)
        {
            var lines = new List<string>();
            int n = int.TryParse(list.OrderedStart, out var start) ? start : 1;
            foreach (var item in list.OfType<ListItemBlock>())
            {
                string marker = list.IsOrdered ? $"{n++}. " : "- ";
                var inner = Blocks(item, width - marker.Length);
                for (int i = 0; i < inner.Count; i++)
                    lines.Add(inner[i].Length == 0 ? "" : (i == 0 ? marker : new string(' ', marker.Length)) + inner[i]);
            }
            return lines;
        }

        private List<string> TableLines(Table table)
        {
            var rows = table.OfType<TableRow>().Select(r => (r.IsHeader, cells: r.OfType<TableCell>().Select(c => Inline((c.FirstOrDefault() as ParagraphBlock)?.Inline)).ToList())).ToList();
            int columns = rows.Max(r => r.cells.Count);
            var widths = Enumerable.Range(0, columns).Select(i => rows.Max(r => i < r.cells.Count ? r.cells[i].Length : 0)).ToArray();
            string Row(IList<string> cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
            var lines = new List<string>();
            foreach (var (isHeader, cells) in rows)
            {
                lines.Add(Row(cells));
                if (isHeader) lines.Add(Row(widths.Select(w => new string('-', w)).ToList()));
            }
            return lines;
        }

        private static List<string> Wrap(string text, int? width)
        {
            var lines = new List<string>();
            foreach (var hard in text.Split('\n'))
            {
                if (width == null) { lines.Add(hard.Trim()); continue; }
                var line = new StringBuilder();
                foreach (var word in hard.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (line.Length > 0 && line.Length + 1 + word.Length > width) { lines.Add(line.ToString()); line.Clear(); }
                    if (line.Length > 0) line.Append(' ');
                    line.Append(word);
                }
                lines.Add(line.ToString());
            }
            return lines;
        }
    }
}
