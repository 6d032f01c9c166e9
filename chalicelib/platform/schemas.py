
from pydantic import Field

from chalicelib.core.schemas import ResponseSchema


class Health(ResponseSchema):
    status: str = Field(description="`ok` when the API can serve requests.")
    stage: str
    version: str
