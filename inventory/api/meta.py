"""Health, the OpenAPI 3 description of this API, and a page to browse it."""

from __future__ import annotations

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from inventory.api import api, responses
from inventory.api.contract import Reply, operation
from inventory.api.description import build_spec
from inventory.services import health as checks
from inventory.web_db import get_session, now, settings


@api.get("/health")
@operation(responses.Health, public=True, also={503: "a component is down"})
def health():
    """Database, broker, ingest workers and scheduler; 503 when one is down; no token needed."""
    parts = checks.report(get_session(), now(), settings().mqtt_url)
    healthy = checks.healthy(parts)
    body = {
        "status": "ok" if healthy else "degraded",
        **{name: part.status for name, part in parts.items()},
        "details": {name: part.as_dict() for name, part in parts.items()},
    }
    return Reply(body, status=200 if healthy else 503)


@api.get("/openapi.json")
@operation(public=True)
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(build_spec(current_app))


DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API</title>
<style>body{font-family:sans-serif;max-width:70em;margin:auto}details{border-bottom:1px solid #ddd;padding:.3em}
code{background:#f4f4f4}.m{display:inline-block;width:4.5em;font-weight:bold}pre{background:#f8f8f8;padding:.5em}</style>
</head><body><h1>Cold-chain vaccine inventory API</h1>
<p>Token: <input id="tok" size="60" placeholder="inv_..."> (sent as <code>Authorization: Bearer</code>)</p>
<div id="ops">loading...</div>
<script>
fetch('openapi.json').then(r=>r.json()).then(spec=>{
 const ops=document.getElementById('ops'); ops.innerHTML='';
 for (const [path,item] of Object.entries(spec.paths)) for (const [m,op] of Object.entries(item)) {
  const d=document.createElement('details');
  const ref=op.requestBody&&op.requestBody.content['application/json'].schema.$ref;
  const schema=ref?spec.components.schemas[ref.split('/').pop()]:null;
  d.innerHTML=`<summary><span class="m">${m.toUpperCase()}</span><code>${path}</code> ${op.summary}</summary>`+
   (schema?`<pre>${JSON.stringify(schema.properties,null,1)}</pre>`:'')+
   `<p>path: <input class="p" size="50" value="${path}"></p>`+(m!=='get'?`<textarea rows="5" cols="80">{}</textarea>`:'')+
   `<button>Send</button><pre class="out"></pre>`;
  d.querySelector('button').onclick=()=>{
   const ta=d.querySelector('textarea'); const h={'Authorization':'Bearer '+document.getElementById('tok').value};
   if(ta) h['Content-Type']='application/json';
   fetch(d.querySelector('.p').value,{method:m.toUpperCase(),headers:h,body:ta?ta.value:undefined})
    .then(async r=>{d.querySelector('.out').textContent=r.status+'\\n'+await r.text();});
  };
  ops.appendChild(d);
 }
});
</script></body></html>"""


@api.get("/docs")
@operation(html=True, public=True)
def docs():
    """A page to browse and try the API."""
    return Response(
        DOCS_PAGE.replace("fetch('openapi.json')", "fetch('/api/v1/openapi.json')"),
        mimetype="text/html",
    )
