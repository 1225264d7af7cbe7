"""The HTML report's only style sheet and script, hand-written and inlined (a few KB), and the
Content-Security-Policy that allows exactly these two and nothing from anywhere else.

The script sorts and filters the row lists, copies DDL and plans, and opens or closes every
row for printing. The page reads fine without it: everything is server-rendered.
"""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root{--fg:#1d2330;--muted:#5b6473;--line:#d9dde5;--bg:#fff;--soft:#f4f6f9;--ok:#1a7f37;
--bad:#c62828;--warn:#9a6700;--new:#0b6bcb;--chg:#8250df}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
header{padding:16px 24px 8px;border-bottom:1px solid var(--line)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:15px;margin:14px 0 6px}
nav a{margin-right:14px;color:var(--new);text-decoration:none}
main{padding:0 24px 40px;max-width:1280px}
.muted,.meta{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--soft)}
.card .big{font-size:20px;font-weight:600}
.card .lbl{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;
white-space:pre-wrap;word-break:break-word;margin:6px 0}
.rows{border:1px solid var(--line);border-radius:8px;overflow:hidden}
.row>summary,.row.head{display:grid;gap:8px;padding:6px 10px;align-items:baseline;
border-top:1px solid var(--line);cursor:pointer;list-style:none}
.row>summary::-webkit-details-marker{display:none}
.row.head{border-top:0;background:var(--soft);font-weight:600;cursor:default}
.row[open]>summary{background:#eef3fb}
.row>summary:hover{background:#f7f9fc}
.rows.q .row>summary,.rows.q .row.head{grid-template-columns:118px 70px 170px 64px 140px 1fr}
.rows.r .row>summary,.rows.r .row.head{grid-template-columns:34px 1fr 90px 120px 100px 70px}
.rows.d .row>summary,.rows.d .row.head{grid-template-columns:70px 1fr 140px 90px 110px}
.num{text-align:right;font-variant-numeric:tabular-nums}
.body{padding:6px 14px 14px;border-top:1px dashed var(--line)}
.head button{all:unset;cursor:pointer}.head button::after{content:" \\2195";color:var(--muted)}
.head button[aria-sort=ascending]::after{content:" \\2191"}
.head button[aria-sort=descending]::after{content:" \\2193"}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid}
.o-improved{color:var(--ok)}.o-already_optimal{color:#0a7893}.o-withdrawn,.o-not_costable,
.o-unknown_table,.o-unparseable,.o-skipped{color:var(--bad)}.o-over_budget,.o-below_threshold,
.o-write_cost_too_high{color:var(--warn)}.o-no_candidate,.o-not_advised{color:var(--muted)}
.change{color:var(--chg)}.good{color:var(--ok)}.badtxt{color:var(--bad)}
.controls{display:flex;gap:10px;align-items:center;margin:8px 0;flex-wrap:wrap}
.controls input{padding:4px 8px;min-width:260px;border:1px solid var(--line);border-radius:6px}
button{font:inherit;border:1px solid var(--line);background:#fff;border-radius:6px;padding:2px 10px;
cursor:pointer}
ul.plan{list-style:none;margin:4px 0;padding-left:18px;border-left:1px solid var(--line)}
ul.plan.top{border-left:0;padding-left:0}
ul.plan li{margin:2px 0}
.n .what{font-weight:600}.n .d{color:var(--muted);font-size:12.5px;margin-left:10px}
.n.changed>.what{color:var(--chg)}.n.added>.what{color:var(--new)}
.n.removed>.what{color:var(--bad);text-decoration:line-through}
.hot{background:#fff4d6;border-radius:4px;padding:0 3px}
table.t{border-collapse:collapse;margin:6px 0;width:100%}
table.t th,table.t td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;
vertical-align:top}table.t th{background:var(--soft)}table.t td.num,table.t th.num{text-align:right}
svg.chart{width:100%;max-width:820px;height:auto;border:1px solid var(--line);border-radius:8px}
svg .grid{stroke:#eceff3}svg .tick{font-size:11px;fill:var(--muted)}
svg .axis{font-size:12px;fill:var(--muted)}svg .curve{fill:none;stroke:var(--new);stroke-width:2}
svg .point circle{fill:var(--new)}svg .point.removed circle{fill:#fff;stroke:var(--new)}
svg .num{font-size:10px;fill:var(--fg)}svg .budget{stroke:var(--warn);stroke-dasharray:6 4}
svg .bound{stroke:var(--muted);stroke-dasharray:2 4}svg .bound-point{fill:var(--muted)}
svg .mark{font-size:11.5px;fill:var(--fg)}svg .chosen{fill:none;stroke:var(--ok);stroke-width:2.5}
svg .knee{fill:none;stroke:var(--chg);stroke-width:2;stroke-dasharray:3 2}
ol.steps{columns:2;font-size:13px}
.hidden{display:none}
@media print{nav,.controls,button{display:none}header{border:0}.row>summary{cursor:auto}
body{font-size:11px}main{max-width:none}details.row{break-inside:avoid}}
"""

JS = """
(function(){
'use strict';
function rows(list){return Array.prototype.filter.call(list.children,function(r){
return r.classList.contains('row')&&!r.classList.contains('head');});}
function sortBy(btn){
var list=document.getElementById(btn.getAttribute('data-list'));
var key='data-'+btn.getAttribute('data-sort');
var desc=btn.getAttribute('aria-sort')!=='descending';
Array.prototype.forEach.call(list.querySelectorAll('button[data-sort]'),function(b){
b.removeAttribute('aria-sort');});
btn.setAttribute('aria-sort',desc?'descending':'ascending');
var all=rows(list);
all.sort(function(x,y){var a=x.getAttribute(key)||'',b=y.getAttribute(key)||'';
var na=parseFloat(a),nb=parseFloat(b);
var r=(!isNaN(na)&&!isNaN(nb))?na-nb:a.localeCompare(b);return desc?-r:r;});
all.forEach(function(r){list.appendChild(r);});}
function applyFilter(list){
var box=document.querySelector('[data-filter="'+list.id+'"]');
var pick=document.querySelector('[data-pick="'+list.id+'"]');
var words=box?box.value.toLowerCase().split(/\\s+/).filter(Boolean):[];
var want=pick?pick.value:'';var shown=0,all=rows(list);
all.forEach(function(r){var text=r.getAttribute('data-text')||'';
var ok=(!want||r.getAttribute('data-outcome')===want)&&words.every(function(w){
return text.indexOf(w)>=0;});r.classList.toggle('hidden',!ok);if(ok){shown++;}});
var count=document.querySelector('[data-count="'+list.id+'"]');
if(count){count.textContent=shown+' of '+all.length;}}
function copy(btn){
var el=document.getElementById(btn.getAttribute('data-copy'));if(!el){return;}
var text=el.textContent;
function said(ok){btn.textContent=ok?'Copied':'Copy failed: select the text';
setTimeout(function(){btn.textContent='Copy';},1600);}
function fallback(){var ta=document.createElement('textarea');ta.value=text;
document.body.appendChild(ta);ta.select();var ok=false;
try{ok=document.execCommand('copy');}catch(e){ok=false;}
document.body.removeChild(ta);said(ok);}
if(navigator.clipboard&&window.isSecureContext){
navigator.clipboard.writeText(text).then(function(){said(true);},fallback);}else{fallback();}}
document.addEventListener('click',function(ev){
var b=ev.target.closest?ev.target.closest('button'):null;if(!b){return;}
if(b.hasAttribute('data-copy')){ev.preventDefault();copy(b);}
else if(b.hasAttribute('data-sort')){sortBy(b);}
else if(b.hasAttribute('data-open')){
var list=document.getElementById(b.getAttribute('data-open'));
var open=b.getAttribute('data-state')!=='open';
rows(list).forEach(function(r){if(!r.classList.contains('hidden')){r.open=open;}});
b.setAttribute('data-state',open?'open':'closed');
b.textContent=open?'Close all':'Open all';}});
Array.prototype.forEach.call(document.querySelectorAll('[data-filter],[data-pick]'),function(el){
var id=el.getAttribute('data-filter')||el.getAttribute('data-pick');
el.addEventListener('input',function(){applyFilter(document.getElementById(id));});});
window.indexadvisorReady=true;
})();
"""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def content_security_policy() -> str:
    """Only our own inline style and script run; nothing is fetched from anywhere (no
    connect, no images but data:, no fonts, no frames), so a mistake in escaping cannot
    run a script and the page works the same from file:// with no network."""
    return (f"default-src 'none'; script-src '{_sha256(JS)}'; style-src '{_sha256(CSS)}'; "
            "img-src data:; base-uri 'none'; form-action 'none'")
