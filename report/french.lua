-- French punctuation for the whole report, written or generated: the space before « : », « ; », « ? » and « ! »
-- becomes a narrow no-break space (U+202F), so that a line never starts with one of them.
local NNBSP = "\u{202F}"

function Inlines(inlines)
  for i = 2, #inlines do
    local here, before = inlines[i], inlines[i - 1]
    if here.t == "Str" and here.text:match("^[:;?!]") and (before.t == "Space" or before.t == "SoftBreak") then
      inlines[i - 1] = pandoc.Str(NNBSP)
    end
  end
  return inlines
end
